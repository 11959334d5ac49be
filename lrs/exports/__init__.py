"""Exports: records written out as NDJSON or CSV, and the record of every export."""

from lrs.exports.base import ExportLog, ExportRequest
from lrs.exports.memory import MemoryExportLog

__all__ = ["ExportLog", "ExportRequest", "MemoryExportLog"]
