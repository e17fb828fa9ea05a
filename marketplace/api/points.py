"""My points: the balance and the statement."""

from marketplace.access import SIGNED_IN
from marketplace.api.registry import component, operation, page_of
from marketplace.api.schema import QueryForm, iso
from marketplace.ledger import services as ledger
from marketplace.ledger import statements
from marketplace.ledger.forms import KIND_LABELS, StatementFilterForm
from marketplace.ledger.models import TRANSFER_KINDS, Transfer
from marketplace.pagination import paginate

BALANCE = component("Balance", {
    "type": "object", "required": ["account_id", "balance"],
    "properties": {"account_id": {"type": "integer"}, "balance": {"type": "integer", "minimum": 0}},
})
LINE = component("StatementLine", {
    "type": "object",
    "required": ["seq", "created_at", "kind", "kind_label", "points", "balance_after", "counterparty", "memo"],
    "properties": {
        "seq": {"type": "integer", "description": "The transfer's place in the ledger."},
        "created_at": {"type": "string", "format": "date-time"},
        "kind": {"type": "string", "enum": list(TRANSFER_KINDS)},
        "kind_label": {"type": "string"},
        "points": {"type": "integer", "description": "Positive in, negative out."},
        "balance_after": {"type": "integer"},
        "counterparty": {"type": "string"},
        "memo": {"type": "string"},
    },
})
STATEMENT = component("StatementPage", page_of(LINE))


@operation("GET", "/points", summary="My points balance", tag="points", allow=(SIGNED_IN,), scope="points",
           response=BALANCE)
def balance(user):
    account = ledger.user_account(user)
    return {"account_id": account.id, "balance": account.balance}


@operation("GET", "/points/statement", summary="My points statement", tag="points", allow=(SIGNED_IN,),
           scope="points", response=STATEMENT, paginated=True, query=QueryForm(StatementFilterForm))
def statement(user, kind, since, until, cursor, limit):
    """Newest first, each line with the balance right after it; the filters (the statement
    page's own) narrow the lines, never the running balance."""
    account = ledger.user_account(user)
    query = statements.statement(account, kind or None, since, until)
    rows, next_cursor = paginate(query, [(Transfer.seq, "desc")], cursor, limit)
    labels = statements.account_labels({statements.counterparty(t, account) for t in rows})
    return {"items": [
        {"seq": t.seq, "created_at": iso(t.created_at), "kind": t.kind, "kind_label": str(KIND_LABELS[t.kind]),
         "points": int(t.signed), "balance_after": int(t.running),
         "counterparty": labels.get(statements.counterparty(t, account), ""), "memo": t.memo}
        for t in rows
    ], "next_cursor": next_cursor}
