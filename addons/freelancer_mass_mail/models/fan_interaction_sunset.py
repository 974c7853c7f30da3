from odoo import api, models

# Interactions that do not show interest, so they keep a fan in the sunset.
NOT_ENGAGEMENT = ("email_bounce", "wechat_unfollow")


class FanInteraction(models.Model):
    _inherit = "fan.interaction"

    @api.model_create_multi
    def create(self, vals_list):
        interactions = super().create(vals_list)
        engaged = interactions.filtered(lambda i: i.interaction_type not in NOT_ENGAGEMENT)
        sunset = engaged.partner_id.filtered("email_sunset_date")
        if sunset:
            sunset.sudo().write({"email_sunset_date": False})
        return interactions
