from . import test_campaign
from . import test_campaign_sending
from . import test_campaign_wechat
from . import test_channel_choice
from . import test_concurrent_send
from . import test_tours
