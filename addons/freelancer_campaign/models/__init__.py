from . import fan_campaign
from . import fan_campaign_wechat
from . import fan_campaign_recipient
from . import mailing_mailing
from . import mailing_trace
from . import wechat_mass_send
from . import wechat_message
from . import wechat_tag
