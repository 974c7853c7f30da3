from . import fan_campaign
from . import fan_campaign_recipient
from . import mailing_mailing
from . import wechat_message
