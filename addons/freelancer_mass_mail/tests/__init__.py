from . import test_bounce
from . import test_checklist
from . import test_recipients
from . import test_sms
from . import test_unsubscribe
