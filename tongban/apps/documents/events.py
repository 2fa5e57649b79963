"""Events the documents app publishes (names and payload keys; payloads are plain JSON).

=====================================  ===================================================
event                                  payload
=====================================  ===================================================
documents.document.signed_off          document (public_id), issuer (department code),
                                       number ("" until numbered), title
documents.document.sealed              document, issuer, number, title, content_sm3
documents.dispatch.sent                dispatch (id), document, sender (department code),
                                       recipients (count); notifications to the receiving
                                       units are created by the handler, never inline
documents.delivery.notify              reason (sent / remind / overdue), deliveries (ids,
                                       one batch): the handler notifies the receiving
                                       units' RECEIVE holders (internal to the app)
documents.delivery.overdue             delivery (id), dispatch (id), document, number,
                                       title, sender, recipient (department codes),
                                       delivered_at, due_at (ISO): a unit did not sign for
                                       a document in time; supervision opens an alert
documents.task.overdue                 task (number), title, supervisor, owners (department
                                       codes not finished), deadline (ISO date)
documents.task.done                    task, title, supervisor, closed_at
=====================================  ===================================================
"""

from __future__ import annotations

DOCUMENT_SIGNED_OFF = "documents.document.signed_off"
DOCUMENT_SEALED = "documents.document.sealed"
DISPATCH_SENT = "documents.dispatch.sent"
DELIVERY_NOTIFY = "documents.delivery.notify"
DELIVERY_OVERDUE = "documents.delivery.overdue"
TASK_OVERDUE = "documents.task.overdue"
TASK_DONE = "documents.task.done"
