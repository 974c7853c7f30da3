from .bulk import bulk_insert
from .normalize import is_mobile_number
from .normalize import mask_phone
from .normalize import normalize_email
from .normalize import normalize_phone
from .normalize import split_emails
from .normalize import split_phones
from .tabular import read_table
