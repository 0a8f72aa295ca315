"""The HTTP gateway: OpenAI-, GitLab AI Gateway- and llama.cpp-compatible endpoints over one engine."""

from assay.server.app import create_app

__all__ = ["create_app"]
