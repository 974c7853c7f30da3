import base64
import logging
import re

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import (
    is_mobile_number,
    normalize_email,
    normalize_phone,
    split_emails,
    split_phones,
)
from ..tools.tabular import FormulaText, TableError, read_table
from .fan_identity import IDENTITY_VALUE_MAX_LENGTH

_logger = logging.getLogger(__name__)

# Column titles seen in contact lists exported from WeChat tools, Excel and
# email services, lowercased; the first matching column wins.
# Longer names are data errors (a whole column pasted into one cell), and they
# would not fit PostgreSQL's index on contact names.
NAME_MAX_LENGTH = 128

# Cell text quoted in a result message is cut to this many characters.
QUOTE_MAX_LENGTH = 60

# Row data kept on a result line that waits for review.
REVIEW_FIELDS = ("name", "email", "phone", "city", "weibo", "tags")


def _quote(text):
    """Return cell text short enough to quote in a result message."""
    text = str(text or "")
    if len(text) <= QUOTE_MAX_LENGTH:
        return text
    return f"{text[:QUOTE_MAX_LENGTH]}…"


# A note in brackets after a name, as in "王芳（重复）" or "Li Lei [VIP]".
NAME_NOTE_RE = re.compile(r"\([^()]*\)|（[^（）]*）|\[[^\[\]]*\]|【[^【】]*】")


def _name_key(name):
    """Return ``name`` without bracketed notes, spacing and case, for comparison."""
    text = NAME_NOTE_RE.sub(" ", name or "")
    return " ".join(text.split()).casefold()


HEADER_ALIASES = {
    "name": ("name", "姓名", "名字", "昵称", "nickname", "full name", "联系人"),
    "email": (
        "email",
        "e-mail",
        "邮箱",
        "电子邮件",
        "电子邮箱",
        "邮件",
        "email address",
        "邮箱地址",
        "e-mail address",
        "mail",
    ),
    "phone": (
        "mobile",
        "phone",
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "联系电话",
        "mobile phone",
        "电话号码",
        "移动电话",
        "phone number",
        "tel",
    ),
    "city": ("city", "城市", "所在城市", "地区"),
    "weibo": ("weibo", "微博", "微博uid", "weibo uid"),
    "tags": ("tags", "tag", "标签", "分组"),
}


class FanImport(models.Model):
    """A contact list import, kept as the consent evidence of what it created."""

    _name = "fan.import"
    _description = "Fan Import"
    _order = "create_date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    file = fields.Binary(attachment=True, required=True)
    filename = fields.Char()
    consent_basis = fields.Selection(
        [
            ("proof", "They agreed to hear from me, and I can show how"),
            ("none", "No proof of consent: ask them to confirm first"),
        ],
        required=True,
        help="Contacts imported without proof of consent are not mailable until they "
        "confirm by double opt-in.",
    )
    consent_proof = fields.Text(
        help="Where and when these people agreed, for example the sign-up sheet of an event."
    )
    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft", readonly=True)
    encoding = fields.Char(readonly=True)
    ignored_columns = fields.Char(
        readonly=True, help="Columns of the file that the import does not recognise."
    )
    sheet_name = fields.Char(
        string="Sheet Read", readonly=True, help="The worksheet of an Excel file that was read."
    )
    ignored_sheets = fields.Char(
        readonly=True, help="Further worksheets of an Excel file; the import reads the first only."
    )
    line_ids = fields.One2many(
        comodel_name="fan.import.line", inverse_name="import_id", string="Results", readonly=True
    )
    created_count = fields.Integer(string="Created", readonly=True)
    updated_count = fields.Integer(string="Matched Existing", readonly=True)
    duplicate_count = fields.Integer(string="Duplicates in File", readonly=True)
    review_count = fields.Integer(string="To Review", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)

    @api.depends("filename", "create_date")
    def _compute_name(self):
        for fan_import in self:
            fan_import.name = fan_import.filename or self.env._("Fan Import")

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_import(self):
        for fan_import in self:
            fan_import._run_import()
        return True

    def action_view_partners(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "freelancer_crm.res_partner_action_fans"
        )
        action["domain"] = [("id", "in", self.line_ids.partner_id.ids)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _run_import(self):
        self.ensure_one()
        if self.state == "done":
            raise UserError(self.env._("This file has already been imported."))
        if self.consent_basis == "proof" and not (self.consent_proof or "").strip():
            raise UserError(
                self.env._(
                    "Describe the proof of consent, or choose to ask the contacts to confirm."
                )
            )
        table = self._read_file()
        header = table.header
        columns = self._map_columns(header)
        ignored = [title for index, title in enumerate(header) if index not in columns.values()]
        records, lines = self._parse_rows(table.rows, columns, header)
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("res_field", "=", "file"),
                ],
                limit=1,
            )
        )
        for record in records:
            lines.append(self._import_record(record, attachment))
        lines.sort(key=lambda line: line["row"])
        self.write(
            {
                "state": "done",
                "encoding": table.encoding,
                "sheet_name": table.sheet_name or False,
                "ignored_sheets": ", ".join(table.ignored_sheets) or False,
                "ignored_columns": ", ".join(title for title in ignored if title) or False,
                "line_ids": [fields.Command.create(line) for line in lines],
                "created_count": sum(line["status"] == "created" for line in lines),
                "updated_count": sum(line["status"] == "updated" for line in lines),
                "duplicate_count": sum(line["status"] == "duplicate" for line in lines),
                "review_count": sum(line["status"] == "review" for line in lines),
                "error_count": sum(line["status"] == "error" for line in lines),
            }
        )
        # Score the new and updated fans now rather than at the nightly recompute,
        # so that they appear in their tier at once.
        self.line_ids.partner_id._fan_recompute_scores()
        _logger.info(
            "Fan import %s: %s created, %s matched, %s duplicates, %s to review, %s errors",
            self.id,
            self.created_count,
            self.updated_count,
            self.duplicate_count,
            self.review_count,
            self.error_count,
        )

    def _get_file_attachment(self):
        return (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("res_field", "=", "file"),
                ],
                limit=1,
            )
        )

    def _read_file(self):
        data = base64.b64decode(self.file or b"")
        try:
            return read_table(data, self.filename or "")
        except TableError as error:
            reason = error.args[0] if error.args else ""
            if reason == "xls":
                message = self.env._(
                    "Old Excel files (.xls) are not supported. Open the file in Excel or WPS, "
                    "save it as an Excel workbook (.xlsx) or as CSV (UTF-8), and import that file."
                )
            elif reason == "encoding":
                message = self.env._(
                    "The file is neither UTF-8 nor GBK/GB18030 text. "
                    "Save it as CSV (UTF-8) and try again."
                )
            elif reason == "empty":
                message = self.env._(
                    "The file contains no rows under its header row. Add one row per person."
                )
            else:
                message = self.env._("The file cannot be read as an Excel workbook (.xlsx).")
            raise UserError(message) from error

    def _map_columns(self, header):
        columns = {}
        for index, title in enumerate(header):
            key = title.strip().lower()
            for field, aliases in HEADER_ALIASES.items():
                if key in aliases and field not in columns:
                    columns[field] = index
        if "email" not in columns and "phone" not in columns:
            raise UserError(
                self.env._(
                    "No email or mobile column found. The first row must name the columns, "
                    "for example 姓名, 手机, 邮箱. Columns found: %(columns)s",
                    columns=", ".join(header),
                )
            )
        return columns

    def _parse_rows(self, rows, columns, header):
        """Normalise rows and fold duplicates inside the file.

        Returns the records to import and the result lines of rows that will
        not be imported (errors and in-file duplicates).
        """
        records = []
        lines = []
        by_key = {}
        for offset, row in enumerate(rows):
            row_number = offset + 2  # 1-based, after the header row
            record = self._parse_row(row, columns, header)
            record["row"] = row_number
            if record["error"]:
                lines.append(
                    {
                        "row": row_number,
                        "status": "error",
                        "message": "; ".join(record["problems"]),
                        "value": _quote(record["raw_value"]),
                    }
                )
                continue
            keys = [("email", value) for value in record["emails"]]
            keys += [("phone", value) for value in record["phones"]]
            first = next((by_key[key] for key in keys if key in by_key), None)
            if first is not None and self._names_differ(record["name"], first["name"]):
                # Imported on its own: it then matches the contact of the first
                # row, and the name difference sends it to review.
                first = None
            elif first is not None:
                lines.append(self._fold_duplicate(record, first))
                for key in keys:
                    by_key.setdefault(key, first)
                continue
            for key in keys:
                by_key.setdefault(key, record)
            records.append(record)
        return records, lines

    def _parse_row(self, row, columns, header):
        """Return the import record of one row, with its problems.

        The record contains the first valid email and phone (a mobile before a
        landline) as ``email`` and ``phone``, the further ones in ``others``,
        and ``error`` when the row cannot be imported.
        """
        problems = []
        values = {}
        for field, index in columns.items():
            value = row[index] if index < len(row) else ""
            if isinstance(value, FormulaText):
                problems.append(
                    self.env._(
                        "the formula “%(formula)s” in column “%(column)s” has no saved value: "
                        "open the file in Excel or WPS, save it and import it again",
                        formula=_quote(value),
                        column=header[index],
                    )
                )
                value = ""
            values[field] = value
        raw_email, raw_phone = values.get("email", ""), values.get("phone", "")
        emails = []
        for part in split_emails(raw_email):
            email = normalize_email(part)
            if not email:
                problems.append(self.env._("invalid email “%(email)s”", email=_quote(part)))
            elif email not in emails:
                emails.append(email)
        phones = []
        for part in split_phones(raw_phone):
            phone = normalize_phone(part)
            if not phone:
                problems.append(self.env._("invalid phone number “%(phone)s”", phone=_quote(part)))
            elif phone not in phones:
                phones.append(phone)
        # A mobile first, so that the contact's phone can receive SMS.
        phones.sort(key=lambda phone: not is_mobile_number(phone))
        landlines = [phone for phone in phones[1:] if not is_mobile_number(phone)]
        if landlines:
            problems.append(
                self.env._(
                    "landline %(numbers)s not imported: a contact keeps one phone number "
                    "besides its mobiles",
                    numbers=", ".join(landlines),
                )
            )
        if not emails and not phones:
            problems.append(self.env._("no valid email or mobile"))
        record = {
            "name": values.get("name", ""),
            "email": emails[0] if emails else False,
            "phone": phones[0] if phones else False,
            "emails": emails,
            "phones": phones,
            "others": emails[1:] + [phone for phone in phones[1:] if is_mobile_number(phone)],
            "city": values.get("city", ""),
            "weibo": values.get("weibo", ""),
            "tags": values.get("tags", ""),
            "raw_value": raw_email or raw_phone or values.get("name", ""),
            "problems": problems,
            "error": not emails and not phones,
            "warning": "",
        }
        if len(record["name"]) > NAME_MAX_LENGTH:
            message = self.env._("name longer than %(max)s characters", max=NAME_MAX_LENGTH)
            return dict(record, problems=[message], error=True)
        if len(record["city"]) > NAME_MAX_LENGTH:
            problems.append(
                self.env._("city longer than %(max)s characters not imported", max=NAME_MAX_LENGTH)
            )
            record["city"] = ""
        if len(record["weibo"]) > IDENTITY_VALUE_MAX_LENGTH:
            problems.append(
                self.env._(
                    "Weibo UID longer than %(max)s characters not imported",
                    max=IDENTITY_VALUE_MAX_LENGTH,
                )
            )
            record["weibo"] = ""
        if record["others"]:
            problems.append(
                self.env._(
                    "%(values)s added as other identities of the contact",
                    values=", ".join(record["others"]),
                )
            )
        record["warning"] = "; ".join(problems)
        return record

    def _fold_duplicate(self, record, first):
        """Merge ``record`` into ``first``, an earlier row of the same person.

        Returns the result line of the duplicate row, which names the emails
        and phones it adds to the first row and those it drops.
        """
        known = {first["email"], first["phone"], *first["others"]}
        for field in ("email", "phone", "name", "city", "weibo"):
            if record[field] and not first[field]:
                first[field] = record[field]
        added, dropped = [], []
        for value in record["emails"] + record["phones"]:
            if value in known:
                continue
            if value not in (first["email"], first["phone"]):
                if "@" not in value and not is_mobile_number(value):
                    dropped.append(value)
                    continue
                first["others"].append(value)
            added.append(value)
        messages = [self.env._("Same person as row %(row)s.", row=first["row"])]
        if added:
            messages.append(
                self.env._("%(values)s imported with that row.", values=", ".join(added))
            )
        if dropped:
            messages.append(
                self.env._(
                    "Landline %(numbers)s not imported: a contact keeps one phone number "
                    "besides its mobiles.",
                    numbers=", ".join(dropped),
                )
            )
        return {
            "row": record["row"],
            "status": "duplicate",
            "value": record["email"] or record["phone"],
            "message": " ".join(messages),
        }

    @api.model
    def _names_differ(self, row_name, partner_name, placeholders=()):
        """Tell whether two names are both given and clearly not the same.

        Case, spacing and notes in brackets are ignored. A name in ``placeholders`` (a contact's
        email or phone, which serves as its name when none was known) counts
        as no name.
        """
        row_key, other_key = _name_key(row_name), _name_key(partner_name)
        if not row_key or not other_key or other_key == "-":
            return False
        if other_key in {_name_key(value) for value in placeholders if value}:
            return False
        return row_key != other_key

    def _import_record(self, record, attachment):
        Partner = self.env["res.partner"]
        line = {"row": record["row"], "value": record["email"] or record["phone"]}
        suppressed = Partner._fan_is_suppressed(email=record["email"], mobile=record["phone"])
        for channel, value in self._other_identities(record):
            if channel == "email":
                suppressed = suppressed or Partner._fan_is_suppressed(email=value)
            else:
                suppressed = suppressed or Partner._fan_is_suppressed(mobile=value)
        if suppressed:
            return dict(
                line,
                status="error",
                message=self.env._("Erased at this person's request; not imported."),
            )
        matches = Partner._fan_find(self._record_match_keys(record))
        for channel, value in self._other_identities(record):
            matches |= Partner._fan_find({channel: value})
        review = dict(
            line,
            status="review",
            candidate_partner_ids=[fields.Command.set(matches.ids)],
            other_identities=", ".join(record["others"]) or False,
            **{field: record[field] or False for field in REVIEW_FIELDS},
        )
        if len(matches) > 1:
            # Kept with the row data, so that someone can decide on the review list.
            return dict(
                review,
                message=self.env._(
                    "Matches several existing contacts (%(names)s); not merged.",
                    names=", ".join(matches.mapped("display_name")),
                ),
            )
        placeholders = (matches.email_normalized, matches.fan_mobile, matches.phone)
        if matches and self._names_differ(record["name"], matches.name, placeholders):
            return dict(
                review,
                message=self.env._(
                    "The name “%(name)s” differs from the matching contact “%(contact)s”; "
                    "not merged.",
                    name=record["name"],
                    contact=matches.display_name,
                ),
            )
        return dict(line, **self._apply_record(record, matches, attachment))

    def _record_identities(self, record):
        """Return the row's channel identities as ``{channel: value}``.

        A landline is no identity: it stays the contact's phone only, because
        it cannot receive SMS and a household or office shares it.
        """
        mobile = record["phone"] if is_mobile_number(record["phone"]) else False
        identities = {"email": record["email"], "mobile": mobile, "weibo": record["weibo"]}
        return {channel: value for channel, value in identities.items() if value}

    def _record_match_keys(self, record):
        """Return the row's identities plus a landline, to find the existing contact."""
        keys = self._record_identities(record)
        if record["phone"] and "mobile" not in keys:
            keys["phone"] = record["phone"]
        return keys

    def _other_identities(self, record):
        """Return the further emails and mobiles of ``record`` as ``(channel, value)`` pairs."""
        return [
            ("email" if "@" in value else "mobile", value) for value in record.get("others", [])
        ]

    def _apply_record(self, record, partner, attachment):
        """Create the contact or complete ``partner``, then record identities and consent.

        Returns the result line values: status, partner_id and message.
        """
        Partner = self.env["res.partner"]
        if partner:
            updates = {
                field: value
                for field, value in (
                    ("email", record["email"]),
                    ("phone", record["phone"]),
                    ("city", record["city"]),
                )
                if value and not partner[field]
            }
            if not partner.is_fan:
                updates["is_fan"] = True
            if updates:
                partner.write(updates)
            status = "updated"
        else:
            partner = Partner.create(
                Partner._fan_prepare_vals(
                    name=record["name"],
                    email=record["email"],
                    phone=record["phone"],
                    city=record["city"] or False,
                    fan_source="import",
                )
            )
            status = "created"
        if record["tags"]:
            partner.category_id = [
                fields.Command.link(tag.id) for tag in self._get_tags(record["tags"])
            ]
        partner._fan_add_identities(self._record_identities(record), source="import")
        for channel, value in self._other_identities(record):
            partner._fan_add_identities({channel: value}, source="import")
        kept = self._record_import_consent(partner, record, attachment)
        message = "; ".join(filter(None, [record.get("warning"), kept]))
        return {"status": status, "partner_id": partner.id, "message": message}

    def _record_import_consent(self, partner, record, attachment):
        """Record consent for the channels the row gives; never override an opt-out."""
        action = "grant" if self.consent_basis == "proof" else "request"
        states = self.env["fan.consent"]._current_states(partner.ids)
        kept = []
        # A landline gets no SMS consent: it cannot receive text messages.
        sms_address = record["phone"] if is_mobile_number(record["phone"]) else False
        for channel, address in (("email", record["email"]), ("sms", sms_address)):
            if not address:
                continue
            state = states.get((partner.id, channel), "none")
            if state == "withdrawn":
                kept.append(self.env._("kept opted out on %(channel)s", channel=channel))
                continue
            if state == "granted" or (state == "pending" and action == "request"):
                continue
            partner._fan_record_consent(
                channel,
                action,
                "import",
                address=address,
                proof=self.consent_proof
                or self.env._("Imported from %(file)s", file=self.filename),
                attachment_id=attachment.id or False,
                res_model=self._name,
                res_id=self.id,
            )
        return "; ".join(kept)

    def _get_tags(self, text):
        Tag = self.env["res.partner.category"]
        tags = Tag
        for separator in ("，", "、", ";", "；", "|"):
            text = text.replace(separator, ",")
        for name in filter(None, (part.strip() for part in text.split(","))):
            tag = Tag.search([("name", "=", name)], limit=1) or Tag.create({"name": name})
            tags |= tag
        return tags
