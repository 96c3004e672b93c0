"""The studio's Textual face: a thin layer over the library, prompts, generate and store.

Nothing here is imported by the core. Modules import only Textual and our light modules at
their top; the library loader, the store, litellm and scipy load inside thread workers.
"""
