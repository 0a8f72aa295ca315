"""Configuration: one ``assay.yaml`` plus ``ASSAY_*`` environment variables, resolved once.

Precedence: environment variables → ``assay.yaml`` → defaults. The file is found at ``--config``,
else ``$ASSAY_CONFIG``, else ``./assay.yaml`` when present; with none, assay serves the embedded
assay-nano model.

Example::

    server:
      port: 5052
    models:
      - name: nano
        provider: local
        path: builtin:assay-nano
      - name: qwen
        provider: openai
        base_url: http://localhost:8000/v1
        model: Qwen/Qwen2.5-Coder-1.5B
        tokenizer: /models/qwen2.5-coder-1.5b     # optional: count tokens with the real tokenizer
        spec: qwen2.5-coder
        cost: {prompt_per_1k: 0.0001, completion_per_1k: 0.0002, currency: USD}  # for assay eval
    features:
      code_completions: qwen
      code_generations: qwen
      chat: qwen
    redaction:
      enabled: true                     # secrets in prompts become <ASSAY_SECRET_n> before any model call
    exclusion:                          # files never sent to a model (default: .env files and key files)
      patterns: ["**/.env", "*.pem", "secrets/**"]
      projects:                         # added for requests whose GitLab project_path matches
        group/app: ["config/credentials/**"]
    experiments:                        # online A/B tests of completions, one arm per user
      - name: qwen-vs-nano
        salt: "2026-03"                 # hashed with the user id; a new salt reshuffles users
        targets: [code_completions]     # default; also code_generations, infill, features (+ features: [explain_code])
        arms:                           # the first arm is the control; its index is GitLab's variant
          - {name: control, model: nano}
          - {name: treatment, model: qwen, weight: 1, pipeline: {max_context_snippets: 2}}
        guardrails: {latency_p95: 0.10, error_rate: 0.005, cost: 0.10}

Environment: ``ASSAY_SERVER__PORT=6000``, ``ASSAY_FEATURES__CODE_COMPLETIONS=qwen``, ...
(``__`` separates nesting levels). API keys are read from the variable a model names in
``api_key_env``, never written into the file.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from assay.errors import ConfigError
from assay.types import Usage

DEFAULT_MODEL_NAME = "assay-nano"
BUILTIN_PREFIX = "builtin:"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelDefaults(_Strict):
    """Per-model overrides of the spec's decoding defaults."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    time_budget_s: float | None = None
    stop: list[str] | None = None
    repetition_penalty: float | None = Field(None, ge=1.0, le=2.0)
    token_healing: bool | None = None
    """Heal FIM prefixes cut mid-token (providers that see tokens: local, llamacpp; see ``assay.providers.healing``)."""


class ModelCost(_Strict):
    """A model's price per 1,000 tokens, for cost per request in evaluation runs (``assay eval``).

    Example: ``cost: {prompt_per_1k: 0.0005, completion_per_1k: 0.0015, currency: USD}``. Zero (the
    default) means free, e.g. a local model.
    """

    prompt_per_1k: float = Field(default=0.0, ge=0)
    completion_per_1k: float = Field(default=0.0, ge=0)
    currency: str = Field(default="USD", min_length=1, max_length=10)


def request_cost(usage: Usage, price: ModelCost) -> float:
    """What one request cost: prompt and completion tokens at ``price``'s rates per 1,000 tokens."""
    return (usage.prompt_tokens * price.prompt_per_1k + usage.completion_tokens * price.completion_per_1k) / 1000


class ModelConfig(_Strict):
    name: str
    """The name clients use (``model`` in OpenAI requests, ``model_name`` in GitLab ones)."""
    aliases: list[str] = Field(default_factory=list)
    """Other names clients may use for this model (the embedded model also answers to ``nano``)."""
    provider: Literal["local", "openai", "anthropic", "echo", "llamacpp", "ctranslate2"] = "local"
    path: str | None = None
    """local / ctranslate2: a Hugging Face id, a local directory, or ``builtin:assay-nano``; llamacpp: a ``.gguf`` file."""
    base_url: str | None = None
    """openai / anthropic: the server's base URL (for OpenAI-compatible servers, ending in ``/v1``)."""
    model: str | None = None
    """The upstream model id; defaults to ``name``."""
    api_key_env: str | None = None
    """Name of the environment variable holding the upstream API key."""
    tokenizer: str | None = None
    """A tokenizer (HF id or directory) for counting prompt tokens of remote models."""
    spec: str | None = None
    """Model-spec family; when omitted, the one assay recorded in a local model folder (``training.json``,
    ``assay_lora.json``), else matched from ``path`` / ``model``, else ``generic`` (``assay.specs.registry.spec_for``)."""
    timeout_s: float = 30.0
    device: str = "auto"
    defaults: ModelDefaults = ModelDefaults()
    options: dict[str, Any] = Field(default_factory=dict)
    """Provider-specific extras (e.g. echo: ``reply``, ``delay_s``)."""
    cost: ModelCost = ModelCost()
    """Price per 1,000 prompt / completion tokens; ``assay eval`` records each request's cost with it."""

    @property
    def upstream_model(self) -> str:
        return self.model or self.name

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = 5052
    trace_buffer: int = 200
    """How many recent request traces ``GET /v1/traces/{id}`` keeps."""
    max_body_bytes: int = 2_000_000
    request_timeout_s: float = 30.0
    admin_token: str | None = None
    """A bearer token that holds every scope, admin included (traces); API keys are the finer-grained way."""
    cors: bool = True


class Features(_Strict):
    """Which configured model serves which feature; unset entries fall back to the first model."""

    code_completions: str | None = None
    code_generations: str | None = None
    chat: str | None = None


class PipelineConfig(_Strict):
    postprocess: bool = True
    context: bool = True
    context_window_lines: int = 20
    """Sliding-window height (lines) for Jaccard context retrieval."""
    max_context_snippets: int = 4
    context_share: float | None = Field(default=None, ge=0.0, le=0.9)
    """Share of the prompt budget context snippets may take (None: the model spec's ``context_share``)."""


class AuthConfig(_Strict):
    """Who may call the gateway. ``keys``: an assay API key, a GitLab cloud-connector JWT or the admin
    token is required on every route but ``/monitoring/*``; ``none``: local single-user mode."""

    mode: Literal["keys", "none"] = "keys"
    gitlab_url: str | None = None
    """GitLab instance whose OIDC JWKS verifies cloud-connector JWTs (``$AIGW_GITLAB_URL`` when unset)."""
    audience: str = "gitlab-ai-gateway"
    jwks_cache_s: float = 86_400.0
    jwks_refresh_min_interval_s: float = 30.0
    """An unknown key id refetches the JWKS at most this often."""
    access_token_ttl_s: int = 3600
    bypass_with_header: bool = False
    """GitLab's test mode: a ``Bypass-Auth: true`` request is let through (``$AIGW_AUTH__BYPASS_EXTERNAL_WITH_HEADER``)."""


class LimitsConfig(_Strict):
    """Default limits per user and per API key (None: unlimited); a key may override them."""

    requests_per_minute: int | None = 600
    tokens_per_day: int | None = 2_000_000
    redis_url: str | None = None
    """Share the counters between gateway replicas through Redis; in-process when unset."""


class DatabaseConfig(_Strict):
    url: str | None = None
    """SQLAlchemy URL of the key and audit store (default: ``sqlite:///~/.assay/assay.db``)."""


class RedactionConfig(_Strict):
    """Secret redaction of everything sent to a model (prefix, suffix, context, raw prompts, chat)."""

    enabled: bool = True


DEFAULT_EXCLUDED = ["**/.env", "**/.env.*", "*.pem", "*.key", "*.p12", "*.pfx", "**/id_rsa", "**/id_ed25519"]


class ExclusionConfig(_Strict):
    """Files never sent to a model. Globs (``**`` spans directories; a pattern without ``/`` matches the
    file name at any depth) matched against the request's file path relative to the project."""

    patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDED))
    """Applied to every request."""
    projects: dict[str, list[str]] = Field(default_factory=dict)
    """Extra patterns per project path (GitLab ``project_path``, e.g. ``group/app``), added to ``patterns``."""


class ArmPipeline(_Strict):
    """Pipeline settings an experiment arm changes; unset fields keep the ``pipeline:`` section's values."""

    postprocess: bool | None = None
    context: bool | None = None
    context_window_lines: int | None = Field(default=None, ge=1)
    max_context_snippets: int | None = Field(default=None, ge=0)
    context_share: float | None = Field(default=None, ge=0.0, le=0.9)
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)


class ExperimentArm(_Strict):
    """One arm; its index in ``arms`` is GitLab's ``variant``. The first arm is the control."""

    name: str = Field(min_length=1, max_length=100)
    weight: float = Field(default=1.0, gt=0)
    model: str | None = None
    """A configured model serving this arm (None: the request's model)."""
    pipeline: ArmPipeline = ArmPipeline()
    prompt_cost_per_1k: float = Field(default=0.0, ge=0)
    """Cost estimate per 1,000 prompt tokens (any one currency unit), recorded per request for the cost guardrail."""
    completion_cost_per_1k: float = Field(default=0.0, ge=0)
    prompt_version: str | None = Field(default=None, min_length=1, max_length=100)
    """For the ``features`` target: the prompt version constraint this arm renders (``1.0.0``, ``^2.0.0``),
    in place of the request's ``prompt_version``; checked against the prompt registry at start."""

    @property
    def price(self) -> ModelCost:
        """This arm's prices as a ``ModelCost`` (for ``request_cost``)."""
        return ModelCost(prompt_per_1k=self.prompt_cost_per_1k, completion_per_1k=self.completion_cost_per_1k)


class ExperimentGuardrails(_Strict):
    """Non-inferiority margins ``assay experiment analyze`` uses for this experiment."""

    latency_p95: float = Field(default=0.10, ge=0)
    """Tolerated relative increase of latency p95."""
    error_rate: float = Field(default=0.005, ge=0)
    """Tolerated absolute increase of the error rate."""
    cost: float = Field(default=0.10, ge=0)
    """Tolerated relative increase of cost per user."""


ExperimentTarget = Literal["code_completions", "code_generations", "infill", "features"]
"""What an experiment applies to: code completions (GitLab v2/v3/v4 completions, OpenAI ``/v1/completions``),
code generations (``/v2/code/generations``, v3/v4 generation components), llama.cpp ``/infill``, or the
generative features (``/v1/chat/{invokable}``, ``/v1/prompts/{id}``, OpenAI ``model: "feature:<id>"``)."""


class ExperimentConfig(_Strict):
    """An online A/B experiment on suggestions, randomised per user (see ``assay.experiments``)."""

    name: str = Field(min_length=1, max_length=100)
    salt: str = Field(min_length=1)
    """Hashed with the user id to pick the arm; changing it reshuffles users."""
    unit: Literal["user"] = "user"
    targets: list[ExperimentTarget] = Field(default_factory=lambda: ["code_completions"], min_length=1)
    features: list[str] = Field(default_factory=list)
    """With the ``features`` target: the prompt features it covers (``explain_code``, ...); empty: every
    feature. Names are checked against the prompt registry when the gateway starts."""
    arms: list[ExperimentArm] = Field(min_length=2)
    guardrails: ExperimentGuardrails = ExperimentGuardrails()
    status: Literal["running", "stopped"] = "running"
    start: datetime | None = None
    """When the experiment started (pre-period data ends here); default: its first recorded exposure."""
    pre_period_days: int = Field(default=14, ge=0)
    """How many days before ``start`` count as each user's pre-period (the CUPED covariate)."""

    @model_validator(mode="after")
    def _unique_arms(self) -> ExperimentConfig:
        names = [a.name for a in self.arms]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"arm names must be unique; repeated: {', '.join(dupes)}")
        if "features" not in self.targets:
            if self.features:
                raise ValueError("features is set but targets does not include 'features'")
            versioned = [a.name for a in self.arms if a.prompt_version is not None]
            if versioned:
                raise ValueError(f"arms {', '.join(versioned)} set prompt_version but targets does not include 'features'")
        return self


def default_models() -> list[ModelConfig]:
    return [ModelConfig(name=DEFAULT_MODEL_NAME, aliases=["nano"], provider="local",
                        path=BUILTIN_PREFIX + DEFAULT_MODEL_NAME)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSAY_", env_nested_delimiter="__", extra="forbid")

    server: ServerConfig = ServerConfig()
    models: list[ModelConfig] = Field(default_factory=default_models)
    features: Features = Features()
    pipeline: PipelineConfig = PipelineConfig()
    redaction: RedactionConfig = RedactionConfig()
    exclusion: ExclusionConfig = ExclusionConfig()
    auth: AuthConfig = AuthConfig()
    limits: LimitsConfig = LimitsConfig()
    database: DatabaseConfig = DatabaseConfig()
    experiments: list[ExperimentConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        names = [n for m in self.models for n in (m.name, *m.aliases)]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"model names must be unique; repeated: {', '.join(sorted(dupes))}")
        if not self.models:
            raise ValueError("at least one model must be configured")
        for feature, model in self.features.model_dump().items():
            if model is not None and model not in names:
                raise ValueError(f"features.{feature} names '{model}', which is not among the models: {', '.join(names)}")
        experiments = [e.name for e in self.experiments]
        if len(set(experiments)) != len(experiments):
            repeated = sorted({n for n in experiments if experiments.count(n) > 1})
            raise ValueError(f"experiment names must be unique; repeated: {', '.join(repeated)}")
        for i, exp in enumerate(self.experiments):
            for j, arm in enumerate(exp.arms):
                if arm.model is not None and arm.model not in names:
                    raise ValueError(f"experiments.{i}.arms.{j}.model names '{arm.model}', which is not among "
                                     f"the models: {', '.join(names)}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    def model(self, name: str | None) -> ModelConfig:
        """The model called ``name``; the first configured model when ``name`` is None."""
        if name is None:
            return self.models[0]
        for m in self.models:
            if name == m.name or name in m.aliases:
                return m
        from assay.errors import ModelNotFound

        raise ModelNotFound(name, [m.name for m in self.models])

    def model_for(self, feature: Literal["code_completions", "code_generations", "chat"]) -> ModelConfig:
        return self.model(getattr(self.features, feature))


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    if explicit:
        return Path(explicit)
    if env := os.environ.get("ASSAY_CONFIG"):
        return Path(env)
    local = Path("assay.yaml")
    return local if local.is_file() else None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """`` at line L, column C: <problem>`` from a YAML parser error, on one line."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{where}: {' '.join(problem.split())}"


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Read ``assay.yaml`` (if any) and the environment; raise ``ConfigError`` naming the bad field."""
    data: dict[str, Any] = {}
    file = find_config_file(path)
    if file is not None:
        if not file.is_file():
            raise ConfigError(f"config file {file} does not exist")
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file}: not valid YAML{_yaml_problem(exc)}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{file}: the top level must be a mapping")
        data.update(loaded)
    data.update(overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        env = "ASSAY_" + path.replace(".", "__").upper()
        where = f"{env} (environment): " if path and env in os.environ else f"{file}: " if file else ""
        field = f"{path}: " if path else ""
        raise ConfigError(f"{where}{field}{first['msg'].removeprefix('Value error, ')}") from None
