from .channel_choice import CHANNEL_COST_ORDER, order_channels
