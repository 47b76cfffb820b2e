"""Documents attached to meetings, conventions and action items, and (database back-end) their bytes."""

from piccolo.columns import Bytea, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.territory.tables import Department


class Document(Table, tablename="document"):
    """One version of an uploaded file. Versions of a document share `root` (the id of the first
    version); the newest live version is the document, the older ones stay listed."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    owner_kind = Varchar(length=20, index=True)  # meeting | convention | action_item
    owner_id = Integer(index=True)
    role = Varchar(length=30)  # see coord.documents.service.ROLES
    root = Integer(null=True, default=None, index=True)
    version = Integer(default=1)
    filename = Varchar(length=200)
    size = Integer()
    content_type = Varchar(length=120)
    sha256 = Varchar(length=64)
    storage_key = Varchar(length=120)
    uploaded_by = Varchar(length=254)
    uploaded_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)
    deleted_by = Varchar(length=254, default="")


class DocumentBlob(Table, tablename="document_blob"):
    """The bytes of documents when `documents_storage = "database"`, keyed by their SHA-256."""

    key = Varchar(length=120, unique=True)
    data = Bytea()
    created_at = Timestamptz(default=TimestamptzNow())
