from . import fan_tier
from . import fan_score_rule
from . import fan_identity
from . import fan_consent
from . import fan_interaction
from . import fan_segment
from . import fan_import
from . import res_partner
