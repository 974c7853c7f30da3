from .callback import (
    MAX_BODY_BYTES,
    MAX_TIMESTAMP_SKEW,
    CallbackError,
    check_timestamp,
    decode_body,
    escape_cdata,
)
