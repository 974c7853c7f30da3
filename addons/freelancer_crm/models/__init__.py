from . import (
    fan_consent,
    fan_identity,
    fan_import,
    fan_interaction,
    fan_score_rule,
    fan_segment,
    fan_tier,
    res_partner,
)
