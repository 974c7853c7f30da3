from . import fan_audience_report
