"""Small SQLAlchemy store for the gateway's API keys and its append-only audit log.

``open_store(url)`` gives a :class:`Store` with ``keys`` (:class:`~assay.store.keys.KeyStore`) and
``audit`` (:class:`~assay.store.audit.AuditLog`) sharing one database.
"""

from assay.store.audit import AuditEntry, AuditLog, AuditRecord
from assay.store.db import DEFAULT_DB_PATH, Store, default_url, open_store
from assay.store.keys import CreatedKey, KeyRecord, KeyStore

__all__ = ["AuditEntry", "AuditLog", "AuditRecord", "CreatedKey", "DEFAULT_DB_PATH", "KeyRecord", "KeyStore",
           "Store", "default_url", "open_store"]
