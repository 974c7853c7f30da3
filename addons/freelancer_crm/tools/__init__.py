from .normalize import mask_phone, normalize_email, normalize_phone
from .tabular import read_table
