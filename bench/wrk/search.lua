-- search.lua -- full-text ticket search with words the generated data
-- holds (kefu demo's topics and kefu gen's vocabulary): Chinese without
-- spaces, a Traditional form, English stems, and two-word queries (every
-- term must match).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local headers = common.headers()
local words = {"退款", "发票", "快递单号", "退貨", "无法开机", "验证码", "积分 到账", "蓝牙耳机",
	"优惠券", "refund", "refunds", "password", "delivery", "courier tomorrow", "air fryer",
	"screenshot"}
local paths = {}
for i, w in ipairs(words) do
	paths[i] = "/api/v1/tickets?view=all&limit=50&q=" .. common.urlencode(w)
end
local i = 0

request = function()
	i = i % #paths + 1
	return wrk.format("GET", paths[i], headers)
end
done = common.done
