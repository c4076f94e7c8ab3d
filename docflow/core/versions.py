"""The pipeline version of each stage: what produced a document's current result.

Every stage records its version string on the document (``source_documents.pipeline_versions``)
in the same transaction as its result. A version names the code's own output format (bumped here
when a stage's output changes for the same input), the libraries and models that shaped it, and
the settings that matter — so "re-run everything made by the old model" is a query, and the
monitor can count documents on an old version.

Versions come from package metadata and settings only: computing them loads no model and no
extraction library, so the CLI and the monitor can compare against them cheaply.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata

from docflow.core.settings import Settings
from docflow.core.status import Stage

# Bump a stage's number when its output changes for the same input (a new element kind, a new
# chunk boundary rule, new entity rules, a new graph shape).
EXTRACTOR = "extract/3"
CHUNKER = "chunk/1"
ENTITY_RULES = "entities/4"
RELATION_RULES = "relations/3"  # typed relationships (tasks.steps.relations), part of the entity stage
GRAPH = "graph/2"


@cache
def package_version(distribution: str) -> str:
    """The installed version of a distribution, or ``absent``."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def model_distribution(model: str) -> str:
    """The distribution that ships a spaCy model package (``en_core_web_sm`` → ``en-core-web-sm``)."""
    return model.replace("_", "-")


# A version is "<what produced it>" or "<what produced it> · <parameters of this document>". Only
# the first part says whether a result is outdated: a document OCR'd in French on purpose, or
# read with the French model because it is French, is not outdated for that.
PARAMETERS = " · "
NO_ENTITY_MODEL = f"{ENTITY_RULES}; no entity model for "


def stage_version(
    stage: Stage,
    settings: Settings,
    *,
    ocr_languages: str | None = None,
    ner_model: str | None = None,
    language: str | None = None,
    vocabulary: str | None = None,
) -> str:
    """The version string a stage records for a document processed with these settings.

    For the entity stage, ``ner_model`` is the model that read the document (None with a
    ``language``: there is no model for that language), ``vocabulary`` the project vocabulary's
    content hash when one was matched.
    """
    if stage is Stage.OCR:
        return (
            f"{EXTRACTOR}; pypdfium2 {package_version('pypdfium2')}; tesserocr {package_version('tesserocr')}"
            f"{PARAMETERS}ocr {ocr_languages or settings.ocr_languages}"
        )
    if stage is Stage.TEXT:
        return f"{CHUNKER}; max {settings.chunk_max_chars}; overlap {settings.chunk_overlap_chars}"
    if stage is Stage.ENTITY:
        if ner_model is None and language is not None:
            return f"{NO_ENTITY_MODEL}{language}"
        model = ner_model or settings.ner_model
        parameters = [f"language {language}" if language else "language undetermined"]
        if vocabulary:
            parameters.append(f"vocabulary {vocabulary[:12]}")
        return f"{_model_version(model)}{PARAMETERS}{'; '.join(parameters)}"
    return GRAPH


def _model_version(model: str) -> str:
    return f"{ENTITY_RULES}; {RELATION_RULES}; {model} {package_version(model_distribution(model))}"


def producer(version: str) -> str:
    """What produced a result: the version without this document's parameters."""
    return version.split(PARAMETERS, 1)[0]


def current_producers(settings: Settings) -> dict[str, list[str]]:
    """Stage -> the producers this installation's settings use now (the entity stage: one per model)."""
    models = sorted({settings.ner_model, *settings.ner_models.values()})
    return {
        Stage.OCR.value: [producer(stage_version(Stage.OCR, settings))],
        Stage.TEXT.value: [stage_version(Stage.TEXT, settings)],
        Stage.ENTITY.value: [_model_version(model) for model in models],
        Stage.GRAPH.value: [GRAPH],
    }


def current_versions(settings: Settings) -> dict[str, str]:
    """Stage -> the version this installation records for a document of the default language."""
    return {stage.value: stage_version(stage, settings) for stage in Stage}


def outdated_sql(stage: Stage, *, placeholder: str = "%({})s") -> str:
    """SQL condition on ``source_documents``: the stage's result was made by another producer.

    Parameters: ``producers_<stage>`` (text[], :func:`current_producers`) and, for the entity
    stage, ``model_languages`` (text[]): "no entity model for de" stays current until German
    gets a model. ``placeholder`` formats a parameter name: psycopg's by default, ``":{}"`` for
    SQLAlchemy's ``text()``.
    """
    producers = placeholder.format(f"producers_{stage.value}")
    languages = placeholder.format("model_languages")
    recorded = f"split_part(pipeline_versions->>'{stage.value}', '{PARAMETERS}', 1)"
    condition = (
        f"{stage.value}_completed_at IS NOT NULL AND NOT (coalesce({recorded}, '') = ANY(CAST({producers} AS text[])))"
    )
    if stage is Stage.ENTITY:
        language = f"substr({recorded}, {len(NO_ENTITY_MODEL) + 1})"
        condition += (
            f" AND NOT (starts_with(coalesce({recorded}, ''), '{NO_ENTITY_MODEL}')"
            f" AND NOT ({language} = ANY(CAST({languages} AS text[]))))"
        )
    return f"({condition})"


def outdated_parameters(settings: Settings) -> dict[str, list[str]]:
    """The bind parameters of :func:`outdated_sql` for every stage."""
    parameters = {f"producers_{stage}": producers for stage, producers in current_producers(settings).items()}
    parameters["model_languages"] = sorted(settings.ner_models)
    return parameters
