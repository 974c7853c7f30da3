import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)


class LinkTracker(models.Model):
    _inherit = "link.tracker"

    fan_interest_tag_id = fields.Many2one(
        comodel_name="res.partner.category",
        string="Interest Tag",
        ondelete="set null",
        help="Tag added to the contact who clicks this link in a mailing, "
        "so that fan segments can select by interest.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        """Take the interest tag of a mailing link from the mailing's link interest rules."""
        for vals in vals_list:
            if (
                vals.get("mass_mailing_id")
                and not vals.get("fan_interest_tag_id")
                and vals.get("url")
            ):
                mailing = self.env["mailing.mailing"].browse(vals["mass_mailing_id"])
                tag = mailing.sudo().fan_link_interest_ids._match_url(vals["url"])
                if tag:
                    vals["fan_interest_tag_id"] = tag.id
        return super().create(vals_list)


class LinkTrackerClick(models.Model):
    _inherit = "link.tracker.click"

    @api.model
    def add_click(self, code, **route_values):
        """Tag the fans reached by the mailing trace with the clicked link's interest tag."""
        click = super().add_click(code, **route_values)
        tag = click.link_id.fan_interest_tag_id if click else False
        if tag and click.mailing_trace_id:
            partners = click.mailing_trace_id._fan_get_partners()
            partners = partners.filtered(lambda partner: tag not in partner.category_id)
            if partners:
                partners.sudo().write({"category_id": [fields.Command.link(tag.id)]})
                _logger.info(
                    "Interest tag %s added to partners %s after a click on link %s",
                    tag.id,
                    partners.ids,
                    click.link_id.id,
                )
        return click
