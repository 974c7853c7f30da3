from . import test_campaign
from . import test_channel_choice
from . import test_tours
