"""The licences' permissions. Verifying a licence needs none (the page is public)."""

from tongban.platform.access.registry import register
from tongban.platform.access.services import ScopePaths

LICENCE_ISSUE = register("licences.licence.issue", "签发电子证照")
LICENCE_REVOKE = register("licences.licence.revoke", "撤销电子证照")
LICENCE_VIEW = register("licences.licence.view", "查看和下载本部门签发的电子证照")
TYPE_MANAGE = register("licences.type.manage", "维护电子证照类型")

# how a licence reaches the organisation tree: through its issuing department
LICENCE_SCOPE = ScopePaths(department="issuer", division="issuer__division")
