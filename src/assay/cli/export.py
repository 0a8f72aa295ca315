"""``assay export`` and ``assay models register``: typer command functions the integrator registers.

``register`` edits ``assay.yaml`` with a round-trip YAML parser, so comments, order and every other
section of the file are kept; the result is checked with ``assay.config.load_settings`` and the
file is left untouched when that fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from assay.cli.common import JsonOpt, fail, quiet_transformers
from assay.errors import AssayError, ConfigError


def export(
    model: Annotated[str, typer.Argument(help="Model directory (or Hugging Face id, or a LoRA adapter folder).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="gguf or safetensors.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file (gguf) or folder (safetensors).")],
    dtype: Annotated[str | None, typer.Option(help="gguf: f32 or f16 (default); safetensors: float32 (default), float16, bfloat16.")] = None,
    spec: Annotated[str | None, typer.Option(help="Model-spec family for GGUF FIM token ids (when omitted: recorded in MODEL's folder, else matched from MODEL).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export a model as one GGUF file (for llama.cpp) or as a safetensors model folder."""
    from assay.providers.hf_tokenizer import missing_directory
    from assay.train.export import export_model

    if missing_directory(model):
        raise fail(f"model directory {model} does not exist")
    try:
        with quiet_transformers():
            result = export_model(model, fmt, out, dtype=dtype, spec=spec)  # type: ignore[arg-type]
    except AssayError as exc:
        raise fail(exc.message) from None
    if as_json:
        typer.echo(json.dumps({"format": result.format, "path": str(result.path), "bytes": result.bytes,
                               "tensors": result.tensors, "dtype": result.dtype}))
        return
    typer.echo(f"wrote {result.format} ({result.dtype}, {result.tensors} tensors, {result.bytes / 1e6:.1f} MB) to {result.path}")


def _spec_for(path: Path, spec: str | None) -> str | None:
    """The family to write into the entry: ``--spec``, else what assay recorded in the model's folder
    (``training.json``, ``assay_lora.json``), else a match on the path; None leaves it to load time."""
    from assay.specs.registry import get_spec, infer_spec

    if spec:
        return get_spec(spec).family
    found = infer_spec(str(path))
    return found.family if found is not None else None


def register_model(name: str, path: Path, *, config: Path = Path("assay.yaml"), spec: str | None = None,
                   make_default: bool = False, replace: bool = False) -> dict[str, Any]:
    """Add (or with ``replace``, overwrite) a local model entry in ``config``; returns the entry written.

    A model directory is served by the ``local`` provider (transformers), a GGUF file by ``llamacpp``.

    A file without a ``models`` list gets one holding the built-in default first (what was being
    served) and then the new model, unless ``make_default`` puts the new model first.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from assay.config import default_models, load_settings

    if path.is_file():
        from assay.providers.llamacpp import check_gguf_file

        check_gguf_file(str(path), name)
        provider = "llamacpp"
    elif path.is_dir() and ((path / "config.json").is_file() or (path / "adapter_config.json").is_file()):
        provider = "local"
    else:
        raise ConfigError(f"{path} is neither a model directory (config.json or adapter_config.json) nor a GGUF file")
    entry = CommentedMap(name=name, provider=provider, path=str(path.resolve()))
    if (family := _spec_for(path, spec)) is not None:
        entry["spec"] = family
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    original = config.read_text(encoding="utf-8") if config.is_file() else None
    try:
        data = yaml.load(original) if original else None
    except Exception as exc:  # noqa: BLE001 - ruamel raises many unrelated error types
        raise ConfigError(f"{config}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, dict):
        raise ConfigError(f"{config}: the top level must be a mapping")
    models = data.get("models")
    if models is None:
        models = CommentedSeq(CommentedMap(m.model_dump(exclude_defaults=True) | {"name": m.name})
                              for m in default_models())
        data["models"] = models
    existing = [i for i, m in enumerate(models) if isinstance(m, dict) and m.get("name") == name]
    if existing and not replace:
        raise ConfigError(f"{config}: a model named '{name}' is already configured; pass --replace to overwrite it")
    for i in reversed(existing):
        del models[i]
    models.insert(0 if make_default else len(models), entry)
    config.parent.mkdir(parents=True, exist_ok=True)
    with config.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    try:
        load_settings(config)
    except ConfigError:
        if original is None:
            config.unlink()
        else:
            config.write_text(original, encoding="utf-8")
        raise
    return dict(entry)


def register(
    name: Annotated[str, typer.Argument(help="The name clients will use for the model.")],
    path: Annotated[Path, typer.Option("--path", help="Model directory (merged model or LoRA adapter), or a .gguf file (served by llama.cpp in-process).")],
    spec: Annotated[str | None, typer.Option(help="Model-spec family (when omitted: the one assay recorded in the model folder, else matched from the path).")] = None,
    config: Annotated[Path, typer.Option("--config", help="The assay.yaml to edit (created when missing).")] = Path("assay.yaml"),
    default: Annotated[bool, typer.Option("--default", help="Put the model first, making it the default.")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a model of the same name.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a local model (a model directory or a GGUF file) to assay.yaml, keeping the rest of the file as it was."""
    try:
        entry = register_model(name, path, config=config, spec=spec, make_default=default, replace=replace)
    except AssayError as exc:
        raise fail(exc.message) from None
    if as_json:
        typer.echo(json.dumps({**entry, "spec": entry.get("spec"), "config": str(config.resolve()),
                               "default": default}, indent=2))
        return
    typer.echo(f"registered '{name}' ({entry['path']}, spec {entry.get('spec', 'matched at load')}) in {config}")
