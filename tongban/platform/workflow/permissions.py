"""The workflow module's permissions."""

from tongban.platform.access.registry import register

DEFINITION_MANAGE = register(
    "workflow.definition.manage", "管理流程定义（上传 BPMN 文件、映射办理部门和岗位）"
)
