import { registry } from "@web/core/registry";

// Desktop: the fans board is grouped by tier, a card opens the fan profile,
// and dragging a card to another tier sets that tier by hand.
registry.category("web_tour.tours").add("freelancer_crm_tier_kanban", {
    url: "/odoo/action-freelancer_crm.res_partner_action_fans",
    steps: () => [
        {
            content: "The board has one column per tier, the closest fans first",
            trigger: ".o_kanban_group:first .o_column_title:contains('True Fan')",
        },
        {
            content: "The tour fan waits in the potential tier",
            trigger: ".o_kanban_group:has(.o_column_title:contains('Potential Fan')) .o_kanban_record:contains('Tour Fan')",
        },
        {
            content: "Drag the tour fan to the true fans",
            trigger: ".o_kanban_record:contains('Tour Fan')",
            run: "drag_and_drop (.o_kanban_group:has(.o_column_title:contains('True Fan')))",
        },
        {
            content: "The card now stands among the true fans",
            trigger: ".o_kanban_group:has(.o_column_title:contains('True Fan')) .o_kanban_record:contains('Tour Fan')",
        },
        {
            content: "Open the fan",
            trigger: ".o_kanban_record:contains('Tour Fan')",
            run: "click",
        },
        {
            content: "Open the Fan tab",
            trigger: ".o_notebook .nav-link:contains('Fan')",
            run: "click",
        },
        {
            content: "The manual tier shows the move as its reason",
            trigger: ".o_field_widget[name='fan_tier_override_reason']:contains('fan board')",
        },
    ],
});

// Phone: the same board in Odoo's mobile layout, one tier at a time.
registry.category("web_tour.tours").add("freelancer_crm_tier_kanban_mobile", {
    url: "/odoo/action-freelancer_crm.res_partner_action_fans",
    steps: () => [
        {
            content: "The board opens on the first tier",
            trigger: ".o_kanban_renderer .o_column_title:contains('True Fan')",
        },
        {
            content: "Switch to the potential fans",
            trigger: ".o_kanban_group .o_column_title:contains('Potential Fan')",
            run: "click",
        },
        {
            content: "Open the tour fan",
            trigger: ".o_kanban_record:contains('Tour Fan')",
            run: "click",
        },
        {
            content: "The fan form opens on the tour fan",
            trigger: ".o_form_view .o_field_widget[name='name'] :is(input, textarea)",
            run() {
                if (!this.anchor.value.includes("Tour Fan")) {
                    throw new Error(`Expected the tour fan, found "${this.anchor.value}"`);
                }
            },
        },
    ],
});
