-- 0006: what the agent console keeps per user (issue 6).
--
-- locale: the console's language ('zh-CN', 'zh-TW', 'en'; NULL: the
-- browser's).  preferences: a JSON object of the user's console settings
-- (notification sound and desktop notices, quick replies ...), read and
-- written whole by the console; the server only checks it is an object.
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN preferences TEXT NOT NULL DEFAULT '{}';
