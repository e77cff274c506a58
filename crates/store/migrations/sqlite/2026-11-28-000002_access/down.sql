DROP TABLE events;
DROP TABLE tokens;
DROP TABLE principals;
