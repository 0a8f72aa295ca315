"""Wire formats: pydantic models of request and response bodies, one module per API family.

Each module also holds the one function that turns its request bodies into pipeline input
(``CompletionInput`` / ``ChatInput``); nothing else in the server builds pipeline input.
"""
