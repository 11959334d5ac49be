"""A learner's erasure: their personal data removed from every store, and the record of it."""

from lrs.erasure.base import Erasure, ErasureStore, pseudonym_of
from lrs.erasure.memory import MemoryErasureStore

__all__ = ["Erasure", "ErasureStore", "MemoryErasureStore", "pseudonym_of"]
