"""The prompt registry: versioned prompts per feature and model family, rendered in a Jinja sandbox.

``default_registry()`` loads the prompts shipped in ``assay/prompts/definitions``;
``PromptRegistry.resolve(feature, family, constraint)`` picks one; ``Prompt.render(inputs)`` builds the
chat messages. This package imports only ``assay.types`` / ``assay.errors`` / ``assay.specs``.
"""

from assay.prompts.registry import (
    BASE_FAMILY,
    Prompt,
    PromptNotFound,
    PromptRegistry,
    RenderedPrompt,
    default_registry,
    family_for_model,
)
from assay.prompts.semver import DEFAULT_CONSTRAINT

__all__ = ["BASE_FAMILY", "DEFAULT_CONSTRAINT", "Prompt", "PromptNotFound", "PromptRegistry", "RenderedPrompt", "default_registry",
           "family_for_model"]
