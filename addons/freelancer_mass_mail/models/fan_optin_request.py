import calendar
import logging
import urllib.parse

from odoo import api, fields, models, tools

from .fan_mail_params import get_email_param

_logger = logging.getLogger(__name__)

# Scope of the HMAC that signs confirmation links: a token signed for
# another feature of the database never validates here.
TOKEN_SCOPE = "freelancer_mass_mail.optin"

OPTIN_STATES = [
    ("pending", "Awaiting Confirmation"),
    ("confirmed", "Confirmed"),
    ("expired", "Expired"),
]


class FanOptinRequest(models.Model):
    """Subscription request from the public form, waiting for the owner of the address.

    The request is the evidence of the double opt-in: where and when the
    form was sent, from which IP address, and when the owner confirmed.
    """

    _name = "fan.optin.request"
    _description = "Double Opt-in Request"
    _order = "request_date desc, id desc"
    _rec_name = "email"

    partner_id = fields.Many2one(
        comodel_name="res.partner", required=True, ondelete="cascade", index=True
    )
    email = fields.Char(required=True, index=True)
    name = fields.Char()
    mobile = fields.Char()
    lang = fields.Char(string="Language")
    state = fields.Selection(OPTIN_STATES, required=True, default="pending", index=True)
    request_date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    expire_date = fields.Datetime(
        string="Link Expires",
        required=True,
        help="The confirmation link is rejected after this date.",
    )
    reminder_date = fields.Datetime(string="Reminder Sent")
    confirm_date = fields.Datetime(string="Confirmed On")
    ip_address = fields.Char(string="IP Address", index=True)
    user_agent = fields.Char()
    form_url = fields.Char(string="Form URL")

    # ------------------------------------------------------------
    # TOKENS AND LINKS
    # ------------------------------------------------------------

    def _expiry_timestamp(self):
        """Return the link expiry as a Unix timestamp (``expire_date`` is naive UTC)."""
        self.ensure_one()
        return calendar.timegm(self.expire_date.timetuple())

    def _compute_token(self, expiry):
        """Return the HMAC (database secret) over the request id, email and expiry."""
        self.ensure_one()
        return tools.hmac(self.env(su=True), TOKEN_SCOPE, (self.id, self.email, int(expiry)))

    def _get_confirm_url(self):
        self.ensure_one()
        expiry = self._expiry_timestamp()
        params = urllib.parse.urlencode(
            {"request_id": self.id, "expiry": expiry, "token": self._compute_token(expiry)}
        )
        return f"{self.get_base_url()}/fans/subscribe/confirm?{params}"

    @api.model
    def _check_token(self, request_id, expiry, token):
        """Return ``(request, error)`` for a confirmation link.

        ``error`` is ``"invalid"`` when the signature does not match,
        ``"expired"`` after the expiry, and ``False`` when the link is valid.
        A confirmed request is returned without error so that the caller can
        say so instead of granting again.
        """
        try:
            request_id, expiry = int(request_id), int(expiry)
        except (TypeError, ValueError):
            return self.browse(), "invalid"
        optin = self.sudo().browse(request_id).exists()
        if not optin or not token or not tools.consteq(optin._compute_token(expiry), token):
            return self.browse(), "invalid"
        if optin.state == "confirmed":
            return optin, False
        if expiry != optin._expiry_timestamp():
            return self.browse(), "invalid"
        if optin.state == "expired" or fields.Datetime.now() > optin.expire_date:
            return optin, "expired"
        return optin, False

    # ------------------------------------------------------------
    # REQUEST, CONFIRMATION, REMINDER, EXPIRY
    # ------------------------------------------------------------

    @api.model
    def _count_recent_from_ip(self, ip_address, hours=1):
        since = fields.Datetime.subtract(fields.Datetime.now(), hours=hours)
        return self.sudo().search_count(
            [("ip_address", "=", ip_address), ("request_date", ">=", since)]
        )

    @api.model
    def _create_from_form(self, name, email, mobile, ip_address, user_agent, form_url, lang):
        """Record a form submission and send the confirmation email.

        Returns the request, or an empty recordset when nothing needs to be
        sent: the address already confirmed, or a request is still pending
        for it. The caller shows the same page in every case, so the form
        does not reveal who subscribed.
        """
        Partner = self.env["res.partner"].sudo()
        email = tools.email_normalize(email)
        # Only a contact with this very address may receive the grant: a match
        # on the unverified mobile number could be somebody else.
        partner = Partner._fan_find({"email": email}).filtered(
            lambda p: p.email_normalized == email
        )[:1]
        if partner and partner.consent_email == "granted":
            _logger.info(
                "Opt-in form for partner %s ignored: email consent already granted", partner.id
            )
            return self.browse()
        pending = self.sudo().search(
            [
                ("email", "=", email),
                ("state", "=", "pending"),
                ("expire_date", ">", fields.Datetime.now()),
            ],
            limit=1,
        )
        if pending:
            _logger.info(
                "Opt-in form ignored: request %s for the address is still pending", pending.id
            )
            return self.browse()
        if not partner:
            # NOTE: an address erased at its owner's request (fan.suppression)
            # may subscribe again here, because the owner confirms the link.
            partner = Partner.create(
                Partner._fan_prepare_vals(
                    name=name, email=email, phone=mobile, fan_source="web_form", lang=lang
                )
            )
        elif not partner.is_fan:
            partner.is_fan = True
        now = fields.Datetime.now()
        optin = self.sudo().create(
            {
                "partner_id": partner.id,
                "email": email,
                "name": name,
                "mobile": mobile,
                "lang": lang,
                "request_date": now,
                "expire_date": fields.Datetime.add(
                    now, days=get_email_param(self.env, "optin_link_valid_days")
                ),
                "ip_address": ip_address,
                "user_agent": user_agent,
                "form_url": form_url,
            }
        )
        partner._fan_record_consent(
            "email",
            "request",
            "web_form",
            address=email,
            ip_address=ip_address,
            user_agent=user_agent,
            proof=form_url,
            res_model=self._name,
            res_id=optin.id,
        )
        optin._send_confirmation_email()
        return optin

    def _confirm(self, ip_address, user_agent):
        """Grant email consent once; return False when the request was already confirmed."""
        self.ensure_one()
        # Lock the row so that two concurrent confirmations grant only once.
        self.env.cr.execute(
            "SELECT state FROM fan_optin_request WHERE id = %s FOR UPDATE", [self.id]
        )
        self.invalidate_recordset(["state"])
        if self.state != "pending":
            return False

        now = fields.Datetime.now()
        self.write({"state": "confirmed", "confirm_date": now})
        self.partner_id._fan_record_consent(
            "email",
            "grant",
            "double_optin",
            address=self.email,
            ip_address=ip_address,
            user_agent=user_agent,
            proof=self.env._(
                "Form %(form)s sent on %(requested)s UTC from %(request_ip)s; "
                "confirmation link opened on %(confirmed)s UTC.",
                form=self.form_url or "-",
                requested=self.request_date,
                request_ip=self.ip_address or "-",
                confirmed=now,
            ),
            res_model=self._name,
            res_id=self.id,
        )
        # A confirmed owner wants mail again, so lift an earlier blocklisting.
        self.env["mail.blacklist"].sudo()._remove(
            self.email, message=self.env._("Email consent confirmed by double opt-in")
        )
        _logger.info("Opt-in request %s confirmed for partner %s", self.id, self.partner_id.id)
        return True

    def _send_confirmation_email(self, reminder=False):
        template = "freelancer_mass_mail.optin_confirmation_email"
        for optin in self:
            lang = optin.lang or optin.partner_id.lang or "zh_CN"
            optin_lang = optin.with_context(lang=lang)
            subject = (
                optin_lang.env._("Reminder: please confirm your subscription")
                if reminder
                else optin_lang.env._("Please confirm your subscription")
            )
            body = optin_lang.env["ir.qweb"]._render(
                template,
                {
                    "name": optin.name or optin.partner_id.name,
                    "confirm_url": optin._get_confirm_url(),
                    "expire_date": optin.expire_date,
                    "reminder": reminder,
                    "company": optin.env.company,
                },
            )
            self.env["mail.mail"].sudo().create(
                {
                    "subject": subject,
                    "body_html": body,
                    "email_to": optin.email,
                    "email_from": optin.env.company.email_formatted
                    or self.env.user.sudo().email_formatted,
                    "auto_delete": True,
                }
            )
        self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()

    @api.model
    def _cron_process_pending(self):
        """Send one reminder to unconfirmed requests, then expire them at their link expiry.

        Expiry records an email ``withdraw`` entry (source double opt-in)
        for partners whose consent is still pending, so the ledger does not
        show them awaiting confirmation for ever.
        """
        now = fields.Datetime.now()
        reminder_cutoff = fields.Datetime.subtract(
            now, days=get_email_param(self.env, "optin_reminder_after_days")
        )
        to_remind = self.search(
            [
                ("state", "=", "pending"),
                ("reminder_date", "=", False),
                ("request_date", "<=", reminder_cutoff),
                ("expire_date", ">", now),
            ]
        )
        if to_remind:
            to_remind._send_confirmation_email(reminder=True)
            to_remind.write({"reminder_date": now})
            _logger.info("Sent opt-in reminders for requests %s", to_remind.ids)
        to_expire = self.search([("state", "=", "pending"), ("expire_date", "<=", now)])
        for optin in to_expire:
            optin.state = "expired"
            partner = optin.partner_id
            partner.invalidate_recordset(["consent_email"])
            if partner.consent_email == "pending":
                partner._fan_record_consent(
                    "email",
                    "withdraw",
                    "double_optin",
                    address=optin.email,
                    proof=self.env._(
                        "Confirmation link expired on %(date)s UTC unconfirmed.",
                        date=optin.expire_date,
                    ),
                    res_model=self._name,
                    res_id=optin.id,
                )
        if to_expire:
            _logger.info("Expired unconfirmed opt-in requests %s", to_expire.ids)
