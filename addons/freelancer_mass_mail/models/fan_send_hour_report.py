from odoo import fields, models, tools

from .fan_mail_params import get_email_param
from .res_partner_email import SEND_TIME_INTERACTIONS


class FanSendHourReport(models.Model):
    """One row per email open or click of a fan, with its local hour: the hour histogram."""

    _name = "fan.send.hour.report"
    _description = "Email Opens and Clicks by Hour"
    _auto = False
    _order = "date desc"

    partner_id = fields.Many2one(comodel_name="res.partner", string="Fan", readonly=True)
    date = fields.Datetime(readonly=True)
    hour = fields.Integer(string="Hour of Day", readonly=True, aggregator=False)
    interaction_type = fields.Selection(
        selection=[("email_open", "Email Opened"), ("email_click", "Email Link Clicked")],
        readonly=True,
    )

    def init(self):
        # NOTE: the time zone is read when the module is installed or updated;
        # after changing freelancer_mass_mail.send_time_tz, update the module.
        tz_name = get_email_param(self.env, "send_time_tz")
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE VIEW {self._table} AS (
                SELECT i.id AS id,
                       i.partner_id AS partner_id,
                       i.date AS date,
                       EXTRACT(HOUR FROM (i.date AT TIME ZONE 'UTC') AT TIME ZONE %s)::int
                           AS hour,
                       i.interaction_type AS interaction_type
                  FROM fan_interaction i
                 WHERE i.interaction_type IN %s
            )
            """,
            [tz_name, SEND_TIME_INTERACTIONS],
        )
