"""Official document permissions. Scopes come from the role grant: a department-scoped
grant reaches the documents the department issues, the deliveries it receives, its own
receipts and the supervised tasks it supervises or owns."""

from tongban.platform.access.registry import register

DRAFT = register("documents.document.draft", "拟稿：起草本部门发文")
CHECK = register("documents.document.check", "核稿：审核本部门发文稿")
COUNTERSIGN = register("documents.document.countersign", "会签：代表本部门会签他部门发文")
SIGN_OFF = register("documents.document.sign_off", "签发：领导签发本部门发文")
NUMBER_SEAL = register("documents.document.register", "编号、用印与分发本部门发文（文书）")
VIEW = register("documents.document.view", "查阅本部门发文")
SEAL_MANAGE = register("documents.seal.manage", "管理本部门电子印章")
RECEIVE = register("documents.delivery.receive", "签收、退回本部门来文，登记收文")
HANDLE = register("documents.receipt.handle", "收文拟办、传阅、承办、办结")
INSTRUCT = register("documents.receipt.instruct", "收文批办（领导）")
ARCHIVE = register("documents.archive.manage", "归档本部门公文，查阅本部门档案")
TASK_SUPERVISE = register("documents.task.supervise", "立项督办事项并跟踪催办")
TASK_REPORT = register("documents.task.report", "报送本部门督办事项进展")
GROUP_MANAGE = register("documents.group.manage", "管理全市公文分发分组")
