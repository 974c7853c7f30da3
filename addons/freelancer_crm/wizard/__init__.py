from . import fan_tier_override
from . import base_partner_merge
