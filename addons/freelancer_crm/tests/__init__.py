from . import test_consent, test_identity, test_import, test_normalize, test_score, test_segment
