"""The outputs recorded every week, declared once (name, unit, meaning)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Output:
    name: str
    unit: str
    help: str


OUTPUTS: tuple[Output, ...] = (
    Output("mean_attitude", "-1..1", "Mean attitude of employees toward marketing."),
    Output("share_supporters", "share", "Employees with attitude above the supporter threshold."),
    Output("share_resisters", "share", "Employees with attitude below minus the supporter threshold."),
    Output("mean_engagement", "0-1", "Mean engagement of employees."),
    Output("knowledge_reach", "share", "Share of true customer needs R&D employees know (insights reaching R&D)."),
    Output("offer_fit", "share", "Share of need dimensions where the firm's code (offer) matches the true needs."),
    Output("trust_sales_in_marketing", "0-1", "Expected trust of sales in marketing (beta reputation)."),
    Output("mean_trust", "0-1", "Mean expected trust over all ordered pairs of departments."),
    Output("handoff_failures", "hand-offs per week", "Failed hand-offs between departments (orders and leads)."),
    Output("order_failure_rate", "share", "Share of this week's orders with at least one failed hand-off."),
    Output("duplicate_work", "hand-offs per week", "Hand-offs done twice."),
    Output("service_quality", "0-1", "Mean weakest-link quality of this week's orders."),
    Output("prospects", "customers", "Customers who have never bought."),
    Output("active_customers", "customers", "Customers who currently buy."),
    Output("lost_customers", "customers", "Customers who left."),
    Output("new_customers", "customers per week", "Prospects converted this week."),
    Output("leads", "prospects per week", "Prospects marketing's advertising handed to sales."),
    Output("lost_leads", "prospects per week", "Leads lost at the marketing -> sales hand-off."),
    Output("churned", "customers per week", "Active customers who left this week."),
    Output("share_positive", "share", "Active customers storing the brand as positive: promoters (score 9-10)."),
    Output("share_neutral", "share", "Active customers storing the brand as standard: passives (score 7-8)."),
    Output("share_negative", "share", "Active customers storing the brand as negative: detractors (score 0-6)."),
    Output("net_promoter_score", "-100..100", "Net promoter score on the standard 0-10 scale: 100 x (promoters - detractors) / active customers."),
    Output("referrals", "customers per week", "Prospects converted by word of mouth."),
    Output("negative_reviews", "reviews per week", "Public negative reviews posted."),
    Output("shitstorm", "0/1", "1 while a shitstorm hits acquisition."),
    Output("ad_fatigue", "0-1", "Mean ad fatigue of all customers."),
    Output("revenue", "EUR per week", "Revenue of orders that went through."),
    Output("marketing_spend", "EUR per week", "Marketing budget spent this week."),
    Output("acquisition_cost", "EUR per new customer", "Marketing spend per new customer (the whole spend when none)."),
)
OUTPUT_NAMES: tuple[str, ...] = tuple(o.name for o in OUTPUTS)
