"""The approvals permissions. Applicants need none: they act on their own cases."""

from tongban.platform.access.registry import register

CASE_RECEIVE = register("approvals.case.receive", "办件收件与材料核验")
CASE_ACCEPT = register("approvals.case.accept", "办件受理、不予受理与补正告知")
CASE_REVIEW = register("approvals.case.review", "办件审查（签收、审核、退回、会签、特别程序）")
CASE_DECIDE = register("approvals.case.decide", "办件审批决定")
CASE_EXTEND_APPROVE = register("approvals.case.extend_approve", "批准延长办理期限")
CASE_DELIVER = register("approvals.case.deliver", "办结与送达")
CASE_READ_ALL = register("approvals.case.read_all", "查阅辖区内全部办件（监督）")
PROCESS_MANAGE = register("approvals.process.manage", "为事项指定上传的办理流程")

# any of these lets a member of staff read a case in the grant's scope
STAFF_READ = (
    CASE_RECEIVE,
    CASE_ACCEPT,
    CASE_REVIEW,
    CASE_DECIDE,
    CASE_EXTEND_APPROVE,
    CASE_DELIVER,
    CASE_READ_ALL,
)
