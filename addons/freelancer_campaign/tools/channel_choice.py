"""Choice of the channel that reaches one fan, in plain Python."""

# Cheapest first: WeChat messages are free, email nearly so, SMS is paid per part.
CHANNEL_COST_ORDER = ("wechat", "email", "sms")


def order_channels(available, preferred=None, engagement=None):
    """Return the ``available`` channels in the order to try them.

    The fan's preferred channel comes first when it is available, then the
    channels on which the fan engaged most (``engagement`` maps a channel to a
    count of recent interactions), then the cheaper ones.
    """
    engagement = engagement or {}

    def rank(channel):
        return (
            0 if channel == preferred else 1,
            -engagement.get(channel, 0),
            CHANNEL_COST_ORDER.index(channel),
        )

    return sorted(available, key=rank)
