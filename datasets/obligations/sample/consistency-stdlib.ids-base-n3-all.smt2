; benchmark generated from python API
(set-info :status unknown)
(declare-fun s0.kind () Int)
(declare-fun s0.kind_index () Int)
(declare-fun s0.name () Int)
(declare-fun s0.status () Int)
(declare-fun s0.status_message () Int)
(declare-fun s0.service () Int)
(declare-fun s0.scope () Int)
(declare-fun s0.trace_state () Int)
(declare-fun s0.start () Int)
(declare-fun s0.end () Int)
(declare-fun s0.has_end () Bool)
(declare-fun s0.flags () Int)
(declare-fun s0.depth () Int)
(declare-fun s0.parent () Int)
(declare-fun s1.depth () Int)
(declare-fun s1.act () Bool)
(declare-fun s2.depth () Int)
(declare-fun s2.act () Bool)
(declare-fun s1.kind () Int)
(declare-fun s1.kind_index () Int)
(declare-fun s1.name () Int)
(declare-fun s1.status () Int)
(declare-fun s1.status_message () Int)
(declare-fun s1.service () Int)
(declare-fun s1.scope () Int)
(declare-fun s1.trace_state () Int)
(declare-fun s1.start () Int)
(declare-fun s1.end () Int)
(declare-fun s1.has_end () Bool)
(declare-fun s1.flags () Int)
(declare-fun s1.parent () Int)
(declare-fun s2.kind () Int)
(declare-fun s2.kind_index () Int)
(declare-fun s2.name () Int)
(declare-fun s2.status () Int)
(declare-fun s2.status_message () Int)
(declare-fun s2.service () Int)
(declare-fun s2.scope () Int)
(declare-fun s2.trace_state () Int)
(declare-fun s2.start () Int)
(declare-fun s2.end () Int)
(declare-fun s2.has_end () Bool)
(declare-fun s2.flags () Int)
(declare-fun s2.parent () Int)
(assert
 (let (($t0 (= s0.kind 11)))
 (let (($t1 (= s0.kind 15)))
 (let (($t2 (= s0.kind 10)))
 (let (($t3 (= s0.kind 16)))
 (let (($t4 (= s0.kind 13)))
 (let (($t5 (= s0.kind 18)))
 (or $t5 $t4 $t3 $t2 $t1 $t0))))))))
(assert
 (let (($t0 (= s0.kind 11)))
 (let (($t6 (= (= s0.kind_index 5) $t0)))
 (let (($t1 (= s0.kind 15)))
 (let (($t7 (= (= s0.kind_index 4) $t1)))
 (let (($t2 (= s0.kind 10)))
 (let (($t8 (= (= s0.kind_index 3) $t2)))
 (let (($t3 (= s0.kind 16)))
 (let (($t9 (= (= s0.kind_index 2) $t3)))
 (let (($t4 (= s0.kind 13)))
 (let (($t10 (= (= s0.kind_index 1) $t4)))
 (let (($t5 (= s0.kind 18)))
 (let (($t11 (= (= s0.kind_index 0) $t5)))
 (and $t11 $t10 $t9 $t8 $t7 $t6))))))))))))))
(assert
 (let (($t12 (>= s0.name 0)))
 (and $t12 (< s0.name 27))))
(assert
 (or (= s0.status 17) (= s0.status 14) (= s0.status 12)))
(assert
 (let (($t13 (>= s0.status_message 0)))
 (and $t13 (< s0.status_message 27))))
(assert
 (let (($t14 (>= s0.service 0)))
 (and $t14 (< s0.service 27))))
(assert
 (let (($t15 (>= s0.scope 0)))
 (and $t15 (< s0.scope 27))))
(assert
 (let (($t16 (>= s0.trace_state 0)))
 (and $t16 (< s0.trace_state 27))))
(assert
 (>= s0.start 1700000000000000000))
(assert
 (<= s0.start 5000000000000000000))
(assert
 (<= s0.end 5000000000000000000))
(assert
 (=> s0.has_end (>= s0.end s0.start)))
(assert
 (let (($t17 (= s0.end s0.start)))
 (let (($t18 (not s0.has_end)))
 (=> $t18 $t17))))
(assert
 (>= s0.flags 0))
(assert
 (< s0.flags 4294967296))
(assert
 (>= s0.depth 0))
(assert
 (let (($t19 (= s0.parent 2)))
 (let (($t20 (= s0.parent 1)))
 (let (($t21 (= s0.parent (- 1))))
 (or $t21 (= s0.parent (- 2)) $t20 $t19)))))
(assert
 (let (($t20 (= s0.parent 1)))
 (=> $t20 (and s1.act (= s0.depth (+ s1.depth 1))))))
(assert
 (let (($t19 (= s0.parent 2)))
 (=> $t19 (and s2.act (= s0.depth (+ s2.depth 1))))))
(assert
 (let (($t22 (= s0.depth 0)))
 (=> (< s0.parent 0) $t22)))
(assert
 (let (($t23 (= s1.kind 11)))
 (let (($t24 (= s1.kind 15)))
 (let (($t25 (= s1.kind 10)))
 (let (($t26 (= s1.kind 16)))
 (let (($t27 (= s1.kind 13)))
 (let (($t28 (= s1.kind 18)))
 (or $t28 $t27 $t26 $t25 $t24 $t23))))))))
(assert
 (let (($t23 (= s1.kind 11)))
 (let (($t29 (= (= s1.kind_index 5) $t23)))
 (let (($t24 (= s1.kind 15)))
 (let (($t30 (= (= s1.kind_index 4) $t24)))
 (let (($t25 (= s1.kind 10)))
 (let (($t31 (= (= s1.kind_index 3) $t25)))
 (let (($t26 (= s1.kind 16)))
 (let (($t32 (= (= s1.kind_index 2) $t26)))
 (let (($t27 (= s1.kind 13)))
 (let (($t33 (= (= s1.kind_index 1) $t27)))
 (let (($t28 (= s1.kind 18)))
 (let (($t34 (= (= s1.kind_index 0) $t28)))
 (and $t34 $t33 $t32 $t31 $t30 $t29))))))))))))))
(assert
 (let (($t35 (>= s1.name 0)))
 (and $t35 (< s1.name 27))))
(assert
 (or (= s1.status 17) (= s1.status 14) (= s1.status 12)))
(assert
 (let (($t36 (>= s1.status_message 0)))
 (and $t36 (< s1.status_message 27))))
(assert
 (let (($t37 (>= s1.service 0)))
 (and $t37 (< s1.service 27))))
(assert
 (let (($t38 (>= s1.scope 0)))
 (and $t38 (< s1.scope 27))))
(assert
 (let (($t39 (>= s1.trace_state 0)))
 (and $t39 (< s1.trace_state 27))))
(assert
 (>= s1.start 1700000000000000000))
(assert
 (<= s1.start 5000000000000000000))
(assert
 (<= s1.end 5000000000000000000))
(assert
 (=> s1.has_end (>= s1.end s1.start)))
(assert
 (let (($t40 (= s1.end s1.start)))
 (let (($t41 (not s1.has_end)))
 (=> $t41 $t40))))
(assert
 (>= s1.flags 0))
(assert
 (< s1.flags 4294967296))
(assert
 (>= s1.depth 0))
(assert
 (let (($t42 (= s1.parent 2)))
 (let (($t43 (= s1.parent 0)))
 (let (($t44 (= s1.parent (- 2))))
 (let (($t45 (= s1.parent (- 1))))
 (or $t45 $t44 $t43 $t42))))))
(assert
 (let (($t43 (= s1.parent 0)))
 (=> $t43 (and true (= s1.depth (+ s0.depth 1))))))
(assert
 (let (($t42 (= s1.parent 2)))
 (=> $t42 (and s2.act (= s1.depth (+ s2.depth 1))))))
(assert
 (let (($t46 (= s1.depth 0)))
 (=> (< s1.parent 0) $t46)))
(assert
 (let (($t47 (= s2.kind 11)))
 (let (($t48 (= s2.kind 15)))
 (let (($t49 (= s2.kind 10)))
 (let (($t50 (= s2.kind 16)))
 (let (($t51 (= s2.kind 13)))
 (let (($t52 (= s2.kind 18)))
 (or $t52 $t51 $t50 $t49 $t48 $t47))))))))
(assert
 (let (($t47 (= s2.kind 11)))
 (let (($t53 (= (= s2.kind_index 5) $t47)))
 (let (($t48 (= s2.kind 15)))
 (let (($t54 (= (= s2.kind_index 4) $t48)))
 (let (($t49 (= s2.kind 10)))
 (let (($t55 (= (= s2.kind_index 3) $t49)))
 (let (($t50 (= s2.kind 16)))
 (let (($t56 (= (= s2.kind_index 2) $t50)))
 (let (($t51 (= s2.kind 13)))
 (let (($t57 (= (= s2.kind_index 1) $t51)))
 (let (($t52 (= s2.kind 18)))
 (let (($t58 (= (= s2.kind_index 0) $t52)))
 (and $t58 $t57 $t56 $t55 $t54 $t53))))))))))))))
(assert
 (let (($t59 (>= s2.name 0)))
 (and $t59 (< s2.name 27))))
(assert
 (let (($t60 (= s2.status 12)))
 (let (($t61 (= s2.status 14)))
 (let (($t62 (= s2.status 17)))
 (or $t62 $t61 $t60)))))
(assert
 (let (($t63 (>= s2.status_message 0)))
 (and $t63 (< s2.status_message 27))))
(assert
 (let (($t64 (>= s2.service 0)))
 (and $t64 (< s2.service 27))))
(assert
 (let (($t65 (>= s2.scope 0)))
 (and $t65 (< s2.scope 27))))
(assert
 (let (($t66 (>= s2.trace_state 0)))
 (and $t66 (< s2.trace_state 27))))
(assert
 (>= s2.start 1700000000000000000))
(assert
 (<= s2.start 5000000000000000000))
(assert
 (<= s2.end 5000000000000000000))
(assert
 (=> s2.has_end (>= s2.end s2.start)))
(assert
 (let (($t67 (= s2.end s2.start)))
 (let (($t68 (not s2.has_end)))
 (=> $t68 $t67))))
(assert
 (>= s2.flags 0))
(assert
 (< s2.flags 4294967296))
(assert
 (>= s2.depth 0))
(assert
 (let (($t69 (= s2.parent 1)))
 (let (($t70 (= s2.parent 0)))
 (let (($t71 (= s2.parent (- 2))))
 (let (($t72 (= s2.parent (- 1))))
 (or $t72 $t71 $t70 $t69))))))
(assert
 (let (($t70 (= s2.parent 0)))
 (=> $t70 (and true (= s2.depth (+ s0.depth 1))))))
(assert
 (let (($t69 (= s2.parent 1)))
 (=> $t69 (and s1.act (= s2.depth (+ s1.depth 1))))))
(assert
 (let (($t73 (= s2.depth 0)))
 (=> (< s2.parent 0) $t73)))
(assert
 (=> s1.act true))
(assert
 (=> s1.act (<= s0.start s1.start)))
(assert
 (=> s2.act s1.act))
(assert
 (=> s2.act (<= s1.start s2.start)))
(assert
 true)
(assert
 true)
(assert
 (let (($t72 (= s2.parent (- 1))))
 (let (($t74 (ite $t72 0 24)))
 (let (($t70 (= s2.parent 0)))
 (let (($t75 (ite $t70 3 $t74)))
 (let (($t69 (= s2.parent 1)))
 (let (($t76 (ite $t69 4 $t75)))
 (let (($t77 (or (and (>= $t76 3) (<= $t76 7)) (= $t76 19) (and (>= $t76 21) (<= $t76 24)))))
 (let (($t78 (not (and s2.act (not $t72)))))
 (let (($t45 (= s1.parent (- 1))))
 (let (($t79 (ite $t45 0 23)))
 (let (($t43 (= s1.parent 0)))
 (let (($t80 (ite $t43 3 $t79)))
 (let (($t42 (= s1.parent 2)))
 (let (($t81 (ite $t42 5 $t80)))
 (let (($t82 (or (and (>= $t81 3) (<= $t81 7)) (= $t81 19) (and (>= $t81 21) (<= $t81 24)))))
 (let (($t83 (not (and s1.act (not $t45)))))
 (let (($t21 (= s0.parent (- 1))))
 (let (($t84 (ite $t21 0 22)))
 (let (($t20 (= s0.parent 1)))
 (let (($t85 (ite $t20 4 $t84)))
 (let (($t19 (= s0.parent 2)))
 (let (($t86 (ite $t19 5 $t85)))
 (let (($t87 (or (and (>= $t86 3) (<= $t86 7)) (= $t86 19) (and (>= $t86 21) (<= $t86 24)))))
 (and (or $t21 $t87) (or $t83 $t82) (or $t78 $t77))))))))))))))))))))))))))
(assert
 (let (($t88 (= (mod s1.flags 2) 1)))
(let (($t89 (= (mod s2.flags 2) 1)))
(let (($t90 (= $t89 $t88)))
(let (($t91 (not (= 0 s1.flags))))
(let (($t92 (not (= 0 s2.flags))))
(let (($t93 (and $t92 $t91)))
(let (($t94 (or (not (and (and s2.act s1.act (= s2.parent 1)) $t93)) $t90)))
(let (($t95 (= (mod s0.flags 2) 1)))
(let (($t96 (= $t89 $t95)))
(let (($t97 (not (= 0 s0.flags))))
(let (($t98 (and $t92 $t97)))
(let (($t99 (and (or (not (and (and s2.act (= s2.parent 0)) $t98)) $t96) $t94)))
(let (($t100 (not s2.act)))
(let (($t101 (= $t88 $t89)))
(let (($t102 (not (and (and s1.act s2.act (= s1.parent 2)) (and $t91 $t92)))))
(let (($t103 (= $t88 $t95)))
(let (($t104 (or (not (and (and s1.act (= s1.parent 0)) (and $t91 $t97))) $t103)))
(let (($t105 (and $t104 (or $t102 $t101))))
(let (($t106 (not s1.act)))
(let (($t107 (= $t95 $t89)))
(let (($t108 (or (not (and (and s2.act (= s0.parent 2)) (and $t97 $t92))) $t107)))
(let (($t109 (= $t95 $t88)))
(let (($t110 (or (not (and (and s1.act (= s0.parent 1)) (and $t97 $t91))) $t109)))
(let (($t111 (and $t110 $t108)))
(and $t111 (or $t106 $t105) (or $t100 $t99)))))))))))))))))))))))))))
(check-sat)
