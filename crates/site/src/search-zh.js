// SafeGrade: cut search queries the way the index was built (crates/site/src/search.rs):
// runs of Han characters become overlapping pairs (复评申请 -> 复评 评申 申请), other words stay
// whole, and the trimmer keeps letters of every script instead of only ASCII.
(function () {
    'use strict';
    if (!window.elasticlunr) {
        return;
    }
    var han = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
    function cut(word, out) {
        var chars = Array.from(word);
        var start = 0;
        while (start < chars.length) {
            var isHan = han.test(chars[start]);
            var end = start + 1;
            while (end < chars.length && han.test(chars[end]) === isHan) {
                end++;
            }
            var run = chars.slice(start, end);
            if (!isHan) {
                out.push(run.join(''));
            } else if (run.length === 1) {
                out.push(run[0]);
            } else {
                for (var i = 0; i + 1 < run.length; i++) {
                    out.push(run[i] + run[i + 1]);
                }
            }
            start = end;
        }
    }
    var tokenizer = function (text) {
        if (text === null || text === undefined) {
            return [];
        }
        var words = Array.isArray(text) ? text : String(text).split(/[\s\-]+/);
        var out = [];
        words.forEach(function (word) {
            word = String(word).trim().toLowerCase();
            if (word !== '') {
                cut(word, out);
            }
        });
        return out;
    };
    tokenizer.seperator = elasticlunr.tokenizer.seperator;
    elasticlunr.tokenizer = tokenizer;
    var trimmer = function (token) {
        return token.replace(/^[^\p{L}\p{N}_]+/u, '').replace(/[^\p{L}\p{N}_]+$/u, '');
    };
    // Replaces the registered `trimmer` the index names (registerFunction would warn).
    trimmer.label = 'trimmer';
    elasticlunr.trimmer = trimmer;
    elasticlunr.Pipeline.registeredFunctions.trimmer = trimmer;
})();
