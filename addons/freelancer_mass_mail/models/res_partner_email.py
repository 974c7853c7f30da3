import logging

from odoo import api, fields, models

from .fan_mail_params import get_email_param

_logger = logging.getLogger(__name__)

# Interactions that show when a fan reads email.
SEND_TIME_INTERACTIONS = ("email_open", "email_click")


class ResPartner(models.Model):
    _inherit = "res.partner"

    email_winback_date = fields.Datetime(
        string="Win-back Mailed On",
        readonly=True,
        copy=False,
        help="When the fan was last queued for a win-back mailing after a long inactivity.",
    )
    email_winback_mailing_id = fields.Many2one(
        comodel_name="mailing.mailing",
        string="Win-back Mailing",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    email_sunset_date = fields.Datetime(
        string="Email Sunset Since",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Set when the fan stayed inactive after a win-back mailing. Marketing emails "
        "leave out sunset fans; any new interaction lifts the sunset.",
    )

    fan_best_send_hour = fields.Integer(
        string="Best Send Hour",
        readonly=True,
        default=-1,
        help="Hour of the day (0-23, in the send-time zone, Asia/Shanghai by default) in "
        "which the fan opened or clicked the most emails; -1 without any history.",
    )

    # ------------------------------------------------------------
    # WIN-BACK AND SUNSET
    # ------------------------------------------------------------

    @api.model
    def _cron_fan_email_winback(self):
        """Sunset the fans who ignored their win-back, then queue a win-back mailing.

        A fan is inactive when the last interaction (or the creation, without
        any) is older than ``winback_inactive_days``. Each inactive fan with
        email consent gets one win-back per inactivity period. Fans still
        inactive ``sunset_after_days`` after their win-back enter the sunset.
        """
        sunset_ids = self._fan_apply_email_sunset()
        mailing = self._fan_queue_winback_mailing()
        return sunset_ids, mailing

    @api.model
    def _fan_apply_email_sunset(self):
        self.flush_model()
        now = fields.Datetime.now()
        cutoff = fields.Datetime.subtract(now, days=get_email_param(self.env, "sunset_after_days"))
        self.env.cr.execute(
            """
            UPDATE res_partner
               SET email_sunset_date = %(now)s
             WHERE email_winback_date <= %(cutoff)s
               AND email_sunset_date IS NULL
               AND (fan_last_interaction_date IS NULL
                    OR fan_last_interaction_date <= email_winback_date)
         RETURNING id
            """,
            {"now": now, "cutoff": cutoff},
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        self.invalidate_model(["email_sunset_date"])
        if ids:
            _logger.info("Email sunset for %s fans inactive since their win-back", len(ids))
        return ids

    @api.model
    def _fan_find_winback_candidates(self):
        """Return the ids of inactive fans with email consent who had no win-back since."""
        self.flush_model()
        cutoff = fields.Datetime.subtract(
            fields.Datetime.now(), days=get_email_param(self.env, "winback_inactive_days")
        )
        self.env.cr.execute(
            """
            SELECT id
              FROM res_partner
             WHERE is_fan
               AND active
               AND consent_email = 'granted'
               AND email_normalized IS NOT NULL
               AND email_sunset_date IS NULL
               AND COALESCE(fan_last_interaction_date, create_date) < %(cutoff)s
               AND (email_winback_date IS NULL
                    OR email_winback_date < COALESCE(fan_last_interaction_date, create_date))
          ORDER BY id
            """,
            {"cutoff": cutoff},
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _fan_queue_winback_mailing(self):
        """Copy the win-back template mailing for the inactive fans and queue it.

        Returns the new mailing, or an empty recordset when no fan is
        inactive or no template is set.
        """
        Mailing = self.env["mailing.mailing"].sudo()
        template = Mailing.browse(get_email_param(self.env, "winback_template_mailing_id")).exists()
        if not template:
            _logger.info("No win-back template mailing set: no win-back mailing queued")
            return Mailing
        partner_ids = self._fan_find_winback_candidates()
        if not partner_ids:
            return Mailing
        now = fields.Datetime.now()
        mailing = template.copy(
            {
                "name": self.env._(
                    "%(name)s (win-back %(date)s)",
                    name=template.subject,
                    date=fields.Date.context_today(self),
                ),
                "mailing_type": "mail",
                "fan_segment_id": False,
                "fan_is_winback": True,
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                "schedule_type": "now",
            }
        )
        # Recipients are read at send time from this marker, with email
        # consent again, so a fan who withdraws before sending is left out.
        mailing.mailing_domain = repr(
            [
                ("email_winback_mailing_id", "=", mailing.id),
                ("consent_email", "=", "granted"),
            ]
        )
        self.browse(partner_ids).sudo().write(
            {
                "email_winback_date": now,
                "email_winback_mailing_id": mailing.id,
            }
        )
        mailing.action_put_in_queue()
        _logger.info(
            "Win-back mailing %s queued for %s inactive fans", mailing.id, len(partner_ids)
        )
        return mailing

    # ------------------------------------------------------------
    # BEST SEND HOUR
    # ------------------------------------------------------------

    @api.model
    def _fan_compute_best_send_hours(self, partner_ids=None):
        """Store each fan's most frequent open/click hour, in one SQL statement.

        Ties go to the earlier hour. Fans without history get -1. Without
        ``partner_ids`` every partner is updated (nightly cron).
        """
        self.env["fan.interaction"].flush_model()
        self.flush_model(["fan_best_send_hour"])
        scope = "" if partner_ids is None else "AND i.partner_id = ANY(%(ids)s)"
        target = "" if partner_ids is None else "AND p.id = ANY(%(ids)s)"
        self.env.cr.execute(
            f"""
            WITH counts AS (
                SELECT i.partner_id,
                       EXTRACT(HOUR FROM (i.date AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::int
                           AS hour,
                       COUNT(*) AS events
                  FROM fan_interaction i
                 WHERE i.interaction_type IN %(types)s {scope}
              GROUP BY 1, 2
            ),
            best AS (
                SELECT DISTINCT ON (partner_id) partner_id, hour
                  FROM counts
              ORDER BY partner_id, events DESC, hour
            )
            UPDATE res_partner p
               SET fan_best_send_hour = COALESCE(b.hour, -1)
              FROM res_partner p2
         LEFT JOIN best b ON b.partner_id = p2.id
             WHERE p.id = p2.id {target}
               AND (p2.fan_best_send_hour IS DISTINCT FROM COALESCE(b.hour, -1))
            """,
            {
                "tz": get_email_param(self.env, "send_time_tz"),
                "types": SEND_TIME_INTERACTIONS,
                "ids": list(partner_ids or []),
            },
        )
        updated = self.env.cr.rowcount
        self.invalidate_model(["fan_best_send_hour"])
        _logger.info("Best send hour updated for %s partners", updated)
        return updated

    @api.model
    def _fan_audience_best_hour(self, partner_ids):
        """Return the hour with the most opens and clicks of these partners, or None."""
        self.env["fan.interaction"].flush_model()
        self.env.cr.execute(
            """
            SELECT EXTRACT(HOUR FROM (date AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::int AS hour
              FROM fan_interaction
             WHERE interaction_type IN %(types)s AND partner_id = ANY(%(ids)s)
          GROUP BY 1
          ORDER BY COUNT(*) DESC, 1
             LIMIT 1
            """,
            {
                "tz": get_email_param(self.env, "send_time_tz"),
                "types": SEND_TIME_INTERACTIONS,
                "ids": list(partner_ids),
            },
        )
        row = self.env.cr.fetchone()
        return row[0] if row else None
