from .normalize import normalize_email, normalize_phone
from .tabular import read_table
