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
(assert
 (let (($t0 (= s0.kind 10)))
 (let (($t1 (= s0.kind 14)))
 (let (($t2 (= s0.kind 9)))
 (let (($t3 (= s0.kind 15)))
 (let (($t4 (= s0.kind 12)))
 (let (($t5 (= s0.kind 17)))
 (or $t5 $t4 $t3 $t2 $t1 $t0))))))))
(assert
 (let (($t0 (= s0.kind 10)))
 (let (($t6 (= (= s0.kind_index 5) $t0)))
 (let (($t1 (= s0.kind 14)))
 (let (($t7 (= (= s0.kind_index 4) $t1)))
 (let (($t2 (= s0.kind 9)))
 (let (($t8 (= (= s0.kind_index 3) $t2)))
 (let (($t3 (= s0.kind 15)))
 (let (($t9 (= (= s0.kind_index 2) $t3)))
 (let (($t4 (= s0.kind 12)))
 (let (($t10 (= (= s0.kind_index 1) $t4)))
 (let (($t5 (= s0.kind 17)))
 (let (($t11 (= (= s0.kind_index 0) $t5)))
 (and $t11 $t10 $t9 $t8 $t7 $t6))))))))))))))
(assert
 (let (($t12 (>= s0.name 0)))
 (and $t12 (< s0.name 25))))
(assert
 (or (= s0.status 16) (= s0.status 13) (= s0.status 11)))
(assert
 (let (($t13 (>= s0.status_message 0)))
 (and $t13 (< s0.status_message 25))))
(assert
 (let (($t14 (>= s0.service 0)))
 (and $t14 (< s0.service 25))))
(assert
 (let (($t15 (>= s0.scope 0)))
 (and $t15 (< s0.scope 25))))
(assert
 (let (($t16 (>= s0.trace_state 0)))
 (and $t16 (< s0.trace_state 25))))
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
 (let (($t19 (= s0.parent 1)))
 (let (($t20 (= s0.parent (- 1))))
 (or $t20 (= s0.parent (- 2)) $t19))))
(assert
 (let (($t19 (= s0.parent 1)))
 (=> $t19 (and s1.act (= s0.depth (+ s1.depth 1))))))
(assert
 (let (($t21 (= s0.depth 0)))
 (=> (< s0.parent 0) $t21)))
(assert
 (let (($t22 (= s1.kind 10)))
 (let (($t23 (= s1.kind 14)))
 (let (($t24 (= s1.kind 9)))
 (let (($t25 (= s1.kind 15)))
 (let (($t26 (= s1.kind 12)))
 (let (($t27 (= s1.kind 17)))
 (or $t27 $t26 $t25 $t24 $t23 $t22))))))))
(assert
 (let (($t22 (= s1.kind 10)))
 (let (($t28 (= (= s1.kind_index 5) $t22)))
 (let (($t23 (= s1.kind 14)))
 (let (($t29 (= (= s1.kind_index 4) $t23)))
 (let (($t24 (= s1.kind 9)))
 (let (($t30 (= (= s1.kind_index 3) $t24)))
 (let (($t25 (= s1.kind 15)))
 (let (($t31 (= (= s1.kind_index 2) $t25)))
 (let (($t26 (= s1.kind 12)))
 (let (($t32 (= (= s1.kind_index 1) $t26)))
 (let (($t27 (= s1.kind 17)))
 (let (($t33 (= (= s1.kind_index 0) $t27)))
 (and $t33 $t32 $t31 $t30 $t29 $t28))))))))))))))
(assert
 (let (($t34 (>= s1.name 0)))
 (and $t34 (< s1.name 25))))
(assert
 (or (= s1.status 16) (= s1.status 13) (= s1.status 11)))
(assert
 (let (($t35 (>= s1.status_message 0)))
 (and $t35 (< s1.status_message 25))))
(assert
 (let (($t36 (>= s1.service 0)))
 (and $t36 (< s1.service 25))))
(assert
 (let (($t37 (>= s1.scope 0)))
 (and $t37 (< s1.scope 25))))
(assert
 (let (($t38 (>= s1.trace_state 0)))
 (and $t38 (< s1.trace_state 25))))
(assert
 (>= s1.start 1700000000000000000))
(assert
 (<= s1.start 5000000000000000000))
(assert
 (<= s1.end 5000000000000000000))
(assert
 (=> s1.has_end (>= s1.end s1.start)))
(assert
 (let (($t39 (= s1.end s1.start)))
 (let (($t40 (not s1.has_end)))
 (=> $t40 $t39))))
(assert
 (>= s1.flags 0))
(assert
 (< s1.flags 4294967296))
(assert
 (>= s1.depth 0))
(assert
 (let (($t41 (= s1.parent 0)))
 (let (($t42 (= s1.parent (- 1))))
 (or $t42 (= s1.parent (- 2)) $t41))))
(assert
 (let (($t41 (= s1.parent 0)))
 (=> $t41 (and true (= s1.depth (+ s0.depth 1))))))
(assert
 (let (($t43 (= s1.depth 0)))
 (=> (< s1.parent 0) $t43)))
(assert
 (=> s1.act true))
(assert
 (=> s1.act (<= s0.start s1.start)))
(assert
 true)
(assert
 (let (($t42 (= s1.parent (- 1))))
 (let (($t44 (ite $t42 0 22)))
 (let (($t41 (= s1.parent 0)))
 (let (($t45 (ite $t41 3 $t44)))
 (let (($t46 (or (and (>= $t45 3) (<= $t45 6)) (= $t45 18) (and (>= $t45 20) (<= $t45 22)))))
 (let (($t47 (not (and s1.act (not $t42)))))
 (let (($t20 (= s0.parent (- 1))))
 (let (($t48 (ite $t20 0 21)))
 (let (($t19 (= s0.parent 1)))
 (let (($t49 (ite $t19 4 $t48)))
 (let (($t50 (or (and (>= $t49 3) (<= $t49 6)) (= $t49 18) (and (>= $t49 20) (<= $t49 22)))))
 (and (or $t20 $t50) (or $t47 $t46))))))))))))))
(assert
 (let (($t51 (= (mod s0.flags 2) 1)))
 (let (($t52 (= (mod s1.flags 2) 1)))
 (let (($t53 (= $t52 $t51)))
 (let (($t54 (not (= 0 s0.flags))))
 (let (($t55 (not (= 0 s1.flags))))
 (let (($t56 (and $t55 $t54)))
 (let (($t57 (or (not (and (and s1.act (= s1.parent 0)) $t56)) $t53)))
 (let (($t58 (not s1.act)))
 (let (($t59 (= $t51 $t52)))
 (let (($t60 (or (not (and (and s1.act (= s0.parent 1)) (and $t54 $t55))) $t59)))
 (and $t60 (or $t58 $t57)))))))))))))
(assert
 (not true))
(check-sat)
