from . import main
from . import optin
