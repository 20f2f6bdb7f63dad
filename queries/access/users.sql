-- The registered users with their role and scope (用户管理; admins only).
-- Parameters: none.
-- Columns: email, name, role, scope_province, scope_city, scope_district, scope_street, scope_community,
--   created_at, created_by
SELECT email, name, role, scope_province, scope_city, scope_district, scope_street, scope_community,
       created_at, created_by
FROM users
ORDER BY email
