from . import fan_consent
from . import mail_thread
from . import mailing_mailing
from . import mailing_trace
from . import res_config_settings
