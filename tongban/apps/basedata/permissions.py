"""Base-database permissions. The base databases are city-wide: viewing and resolving
need the permission with any scope; updating is done for a department (the department
must be within the grant's scope) and only the fields that department supplies."""

from tongban.platform.access.registry import register

RECORD_VIEW = register("basedata.record.view", "查询基础库记录（脱敏显示，查询留痕）")
RECORD_UPDATE = register("basedata.record.update", "报送基础库数据（本部门负责的字段）")
QUALITY_RESOLVE = register("basedata.quality.resolve", "处理基础库数据质量问题")
