import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

const dashboardSteps = () => [
    {
        content: "The dashboard shows the true fans against the goal of 7",
        trigger: ".o_fan_dashboard .o_field_widget[name='goal']:contains('7')",
    },
    {
        content: "The progress bar is there",
        trigger: ".o_fan_dashboard .o_field_widget[name='goal_progress'] .o_progressbar",
    },
    {
        content: "Open the audience by day",
        trigger: ".o_fan_dashboard button[name='action_open_audience']",
        run: "click",
    },
    {
        content: "The audience graph is drawn",
        trigger: ".o_graph_view .o_graph_renderer canvas",
    },
];

// Desktop: reach the dashboard from the Fans app menu.
registry.category("web_tour.tours").add("freelancer_crm_dashboard", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("freelancer_crm.freelancer_crm_menu_root", "Open the Fans app"),
        {
            content: "Open the dashboard",
            trigger: ".o_menu_sections a:contains('Dashboard')",
            run: "click",
        },
        ...dashboardSteps(),
    ],
});

// Phone: open the dashboard by its link, as from a bookmark on the home screen.
registry.category("web_tour.tours").add("freelancer_crm_dashboard_mobile", {
    url: "/odoo/action-freelancer_crm.fan_dashboard_action",
    steps: dashboardSteps,
});
