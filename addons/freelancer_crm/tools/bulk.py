from odoo import fields
from odoo.tools import SQL, split_every

# Rows per INSERT statement, as the ORM does.
INSERT_BATCH_SIZE = 1000


def bulk_insert(model, vals_list):
    """Insert the rows of ``model`` in ``vals_list`` and return the new records.

    Meant for imports of thousands of rows of the addons' own ledger models,
    where the ORM's per-record work costs more than the rows themselves.
    Each dict must hold complete, validated values of plain stored columns,
    because no default is added, no ``create`` override runs and only SQL
    constraints are checked. Stored fields that depend on the new rows are
    marked for recomputation, as after an ORM ``create``.
    """
    if not vals_list:
        return model.browse()
    columns = sorted(vals_list[0])
    for name in columns:
        field = model._fields.get(name)
        if not field or not (field.store and field.column_type) or field.compute:
            raise ValueError(f"{model._name}.{name} is not a plain stored column")
    now = fields.Datetime.now()
    uid = model.env.uid
    all_columns = [*columns, "create_uid", "write_uid", "create_date", "write_date"]
    ids = []
    for chunk in split_every(INSERT_BATCH_SIZE, vals_list):
        rows = [
            (
                *(
                    model._fields[name].convert_to_column_insert(vals[name], model, vals)
                    for name in columns
                ),
                uid,
                uid,
                now,
                now,
            )
            for vals in chunk
        ]
        model.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s) VALUES %s RETURNING id",
                SQL.identifier(model._table),
                SQL(", ").join(map(SQL.identifier, all_columns)),
                SQL(", ").join(rows),
            )
        )
        ids.extend(row[0] for row in model.env.cr.fetchall())
    # One2many fields on the other side (a partner's ledger, say) may have
    # been read before and would not show the new rows otherwise.
    for name in columns:
        for inverse in model.pool.field_inverses[model._fields[name]]:
            model.env[inverse.model_name].invalidate_model([inverse.name])
    records = model.browse(ids)
    records.modified(columns, create=True)
    return records
