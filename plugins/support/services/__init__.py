"""Business rules of support: teams and their hours, routing, SLA, tickets and their thread,
canned replies, queues and coverage.

Every function works in the caller's transaction and raises a DomainError with a translated
message; the caller commits or rolls back. Ticket status changes fire
``erp_ticket_status_changed`` inside the same transaction.

The rules live in one module per subject (listed from the bottom layer up: a module imports only
those above it); every public name stays importable from here:

- ``desk``: contact settings and the links customers get;
- ``sla``: due-time targets and due times, overdue tickets, the SLA scan;
- ``teams``: teams, their hours and members, who is on duty, routing of new tickets;
- ``coverage``: when the teams work, half-hour by half-hour, and the gaps;
- ``tickets``: opening (checking the input, finding the customer) and finding tickets;
- ``actions``: status changes, assignment, details;
- ``messages``: replies, notes and the customer's messages; other plugins' requests;
- ``canned``: canned replies;
- ``queries``: queues, filters, sort columns and counts.

Helpers shared by these modules are in ``_common``.
"""

# path_for is re-exported: the plugin's search hook links with services.path_for.
from erp_core.ui import path_for

from ._common import MAX_BODY, WEEKDAYS, split_list
from .actions import assign, change_status, update_details
from .canned import render_canned, save_canned
from .coverage import CoverageDay, CoverageRow, coverage_gaps, week_coverage
from .desk import (
    check_phone_list,
    contact_details,
    find_ticket_by_token,
    public_url,
    ticket_public_url,
    ticket_token,
)
from .messages import add_message, ticket_requested
from .queries import (
    PRIORITY_RANK,
    QUEUES,
    SORT_COLUMNS,
    TicketFilters,
    order_tickets,
    queue_counts,
    ticket_query,
)
from .sla import (
    SLA_DEFAULTS,
    compute_due,
    is_overdue,
    overdue_condition,
    scan_sla,
    sla_minutes,
)
from .teams import (
    active_teams,
    all_teams,
    format_day_hours,
    is_lead,
    on_duty,
    parse_day_hours,
    route_team,
    save_team,
    teams_of,
)
from .tickets import TicketInput, get_ticket, next_number, open_ticket

__all__ = [
    "MAX_BODY", "PRIORITY_RANK", "QUEUES", "SLA_DEFAULTS", "SORT_COLUMNS", "WEEKDAYS",
    "CoverageDay", "CoverageRow", "TicketFilters", "TicketInput",
    "active_teams", "add_message", "all_teams", "assign", "change_status", "check_phone_list",
    "compute_due", "contact_details", "coverage_gaps", "find_ticket_by_token", "format_day_hours",
    "get_ticket", "is_lead", "is_overdue", "next_number", "on_duty", "open_ticket", "order_tickets",
    "overdue_condition", "parse_day_hours", "path_for", "public_url", "queue_counts", "render_canned",
    "route_team", "save_canned", "save_team", "scan_sla", "sla_minutes", "split_list", "teams_of",
    "ticket_public_url", "ticket_query", "ticket_requested", "ticket_token", "update_details",
    "week_coverage",
]
