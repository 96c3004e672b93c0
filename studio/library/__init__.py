"""The library: personas, topic trees and style templates as plain YAML files."""

from studio.library.errors import LibraryError, LibraryFileError
from studio.library.loader import load_library, load_one
from studio.library.models import (
    Library,
    Persona,
    SamplingDefaults,
    StyleTemplate,
    Topic,
    TopicNode,
    TopicTree,
    slugify,
)

__all__ = [
    "Library",
    "LibraryError",
    "LibraryFileError",
    "Persona",
    "SamplingDefaults",
    "StyleTemplate",
    "Topic",
    "TopicNode",
    "TopicTree",
    "load_library",
    "load_one",
    "slugify",
]

from studio.library.saver import (
    TopicTreeDocument,
    save_persona,
    save_style,
    save_text,
)

__all__ += ["TopicTreeDocument", "save_persona", "save_style", "save_text"]
