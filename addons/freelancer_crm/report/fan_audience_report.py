from odoo import fields, models, tools

from ..models.fan_consent import CONSENT_CHANNELS


class FanAudienceReport(models.Model):
    """Audience per channel per day, as the WeChat back office shows it.

    New and lost count the people whose consent on the channel was granted
    or withdrawn that day. The total is the running sum of the net change.
    Days are calendar days in China Standard Time (UTC+8), where the users
    of this suite work.
    """

    _name = "fan.audience.report"
    _description = "Audience per Channel and Day"
    _auto = False
    _order = "date desc, channel"

    date = fields.Date(readonly=True)
    channel = fields.Selection(CONSENT_CHANNELS, readonly=True)
    new_count = fields.Integer(string="New", readonly=True)
    lost_count = fields.Integer(string="Lost", readonly=True)
    net_count = fields.Integer(string="Net", readonly=True)
    # NOTE: a running total only adds up within one channel and day. Grouped
    # by week or month, the report shows the highest total of the period.
    total_count = fields.Integer(string="Total", readonly=True, aggregator="max")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE OR REPLACE VIEW {self._table} AS (
                WITH daily AS (
                    SELECT (date AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Shanghai')::date AS day,
                           channel,
                           COUNT(DISTINCT partner_id) FILTER (WHERE action = 'grant') AS new_count,
                           COUNT(DISTINCT partner_id) FILTER (WHERE action = 'withdraw')
                               AS lost_count
                      FROM fan_consent
                  GROUP BY 1, 2
                )
                SELECT row_number() OVER (ORDER BY day, channel) AS id,
                       day AS date,
                       channel,
                       new_count,
                       lost_count,
                       new_count - lost_count AS net_count,
                       SUM(new_count - lost_count) OVER (PARTITION BY channel ORDER BY day)
                           AS total_count
                  FROM daily
            )
            """
        )
