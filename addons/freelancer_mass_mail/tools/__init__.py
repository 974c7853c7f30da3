from .checklist import (
    count_links,
    find_images_without_alt,
    find_spam_words,
    has_unsubscribe_link,
    html_size_bytes,
    is_image_only,
)
from .dsn import classify_bounce, extract_dsn_status
from .sms import compose_fan_sms, sms_part_count
from .sms_window import (
    in_sending_window,
    is_known_timezone,
    next_window_start,
    parse_window_time,
)
from .sms_provider_common import is_opt_out_reply
